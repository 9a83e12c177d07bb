import { randomBytes } from 'node:crypto';
import type Dockerode from 'dockerode';
import { hardeningHostConfig } from './container-hardening.js';
import { commandArgs } from './entrypoint-command.js';
import type { ContainerSpec } from './container-spec.js';
import { RuntimeErrors } from './runtime-errors.js';

/** Labels every paas container carries; `docker ps --filter label=paas.app=x` finds an app's containers. */
export const LABELS = {
  app: 'paas.app',
  process: 'paas.process',
  release: 'paas.release',
  replica: 'paas.replica',
  port: 'paas.port',
  oneOff: 'paas.oneoff',
  managed: 'paas.managed',
} as const;

const APP_RE = /^[a-z][a-z0-9-]{0,47}$/;
/** A process type (Procfile entry name): `web`, `worker`, `release_2`. */
export const PROCESS_TYPE_RE = /^[a-zA-Z0-9][a-zA-Z0-9_-]{0,47}$/;

export function validateSpec(spec: ContainerSpec): void {
  if (!APP_RE.test(spec.app)) throw RuntimeErrors.invalidSpec(`invalid app name '${spec.app}'`);
  if (!PROCESS_TYPE_RE.test(spec.process)) throw RuntimeErrors.invalidSpec(`invalid process type '${spec.process}'`);
  if (!Number.isInteger(spec.release) || spec.release < 0) throw RuntimeErrors.invalidSpec(`invalid release ${spec.release}`);
  if (!Number.isInteger(spec.replica) || spec.replica < 0) throw RuntimeErrors.invalidSpec(`invalid replica ${spec.replica}`);
  if (!Number.isInteger(spec.port) || spec.port < 1 || spec.port > 65535) throw RuntimeErrors.invalidSpec(`invalid port ${spec.port}`);
  if (!spec.image) throw RuntimeErrors.invalidSpec('no image to run');
  if (spec.pidsLimit !== undefined && (!Number.isInteger(spec.pidsLimit) || spec.pidsLimit < 1))
    throw RuntimeErrors.invalidSpec(`invalid pids limit ${spec.pidsLimit}`);
}

/** The bridge network of one app, `<prefix>-<app>` (`paas-myapp`): its containers join only it, so apps cannot reach each other. */
export function appNetworkName(prefix: string, app: string): string {
  return `${prefix}-${app}`;
}

/** `<app>.<process>.<replica>.v<release>.<6 hex>`: readable in `docker ps`, unique across restarts and blue-green overlaps. */
export function containerName(spec: Pick<ContainerSpec, 'app' | 'process' | 'replica' | 'release'>): string {
  return `${spec.app}.${spec.process}.${spec.replica}.v${spec.release}.${randomBytes(3).toString('hex')}`;
}

export function specLabels(spec: ContainerSpec, extra: Record<string, string> = {}): Record<string, string> {
  return {
    ...extra,
    ...(spec.labels ?? {}),
    [LABELS.managed]: '1',
    [LABELS.app]: spec.app,
    [LABELS.process]: spec.process,
    [LABELS.release]: String(spec.release),
    [LABELS.replica]: String(spec.replica),
    [LABELS.port]: String(spec.port),
  };
}

/** Docker `filters.label` entries for a list query. */
export function labelFilters(filter: { app?: string; process?: string; release?: number } = {}): string[] {
  const f: string[] = [LABELS.app];
  if (filter.app !== undefined) f.push(`${LABELS.app}=${filter.app}`);
  if (filter.process !== undefined) f.push(`${LABELS.process}=${filter.process}`);
  if (filter.release !== undefined) f.push(`${LABELS.release}=${filter.release}`);
  return f;
}

/** Env as Docker wants it; PORT from the spec wins over a PORT config var. */
export function specEnv(spec: ContainerSpec): string[] {
  const env: Record<string, string> = { ...spec.env, PORT: String(spec.port) };
  return Object.entries(env).map(([k, v]) => `${k}=${v}`);
}

/**
 * The create options every paas container shares (service replica or one-off): image, command,
 * env, labels, network, limits, binds, init and hardening. Callers spread it and add what differs.
 */
export function baseCreateOptions(
  spec: ContainerSpec,
  network: string,
  labels: Record<string, string>,
  init: boolean,
  /** the image's ENTRYPOINT: decides whether the command goes through `/bin/sh -c` or as words (entrypoint-command.ts) */
  entrypoint: readonly string[] | null = null,
): Dockerode.ContainerCreateOptions & { HostConfig: Dockerode.HostConfig } {
  return {
    Image: spec.image,
    Cmd: spec.command ? commandArgs(spec.command, entrypoint) : undefined,
    Env: specEnv(spec),
    Labels: labels,
    HostConfig: {
      NetworkMode: network,
      Memory: spec.memoryBytes,
      NanoCpus: spec.nanoCpus,
      Binds: spec.binds,
      Init: init,
      ...hardeningHostConfig(spec),
    },
  };
}
