import { randomBytes } from 'node:crypto';
import { DEFAULT_PIDS_LIMIT, DROPPED_CAPABILITIES } from '../../runtime/container-hardening.js';
import { specEnv } from '../../runtime/container-naming.js';
import { type ContainerSpec, DEFAULT_RESTART } from '../../runtime/container-spec.js';
import { commandArgs } from '../../runtime/entrypoint-command.js';

/** Labels of a paas Swarm service. Not `paas.app`: the local runtime lists containers by that label, and must never see task containers. */
export const SWARM_LABELS = {
  app: 'paas.swarm.app',
  process: 'paas.swarm.process',
  release: 'paas.swarm.release',
  replica: 'paas.swarm.replica',
  port: 'paas.swarm.port',
  managed: 'paas.managed',
} as const;

/** Seconds a task gets between SIGTERM and SIGKILL when its service is removed, as `docker stop` gives a local container. */
export const STOP_GRACE_S = 10;

/** The attachable overlay of one app's services (and of whatever must reach them from any node): `paas-<app>-swarm`. */
export function overlayName(prefix: string, app: string): string {
  return `${prefix}-${app}-swarm`;
}

/**
 * A service name Swarm accepts (a DNS label: letters, digits, `-` and `_`, at most 63 chars):
 * `<app>-<process>-<replica>-v<release>-<4 hex>`, the app and process cut short when too long.
 */
export function serviceName(spec: Pick<ContainerSpec, 'app' | 'process' | 'replica' | 'release'>): string {
  const tail = `-${spec.replica}-v${spec.release}-${randomBytes(2).toString('hex')}`;
  const room = 63 - tail.length - 1;
  const app = spec.app.slice(0, Math.max(8, room - Math.min(spec.process.length, 16)));
  const proc = spec.process.slice(0, room - app.length);
  return `${app}-${proc}${tail}`.replace(/[^A-Za-z0-9_-]/g, '-');
}

function swarmRestart(spec: ContainerSpec): { Condition: string; MaxAttempts?: number; Delay: number } {
  const r = { ...DEFAULT_RESTART, ...(spec.restart ?? {}) };
  const delay = 1_000_000_000; // Swarm's default of 5 s keeps a crashed replica out for longer than a local restart
  if (r.policy === 'no') return { Condition: 'none', Delay: delay };
  if (r.policy === 'on-failure') return { Condition: 'on-failure', MaxAttempts: r.maxRetries, Delay: delay };
  return { Condition: 'any', Delay: delay };
}

export interface ServiceSpecContext {
  /** the image reference nodes pull (image-distributor.ts) */
  image: string;
  /** the image's ENTRYPOINT, read on the manager */
  entrypoint: readonly string[] | null;
  network: string;
  labels: Record<string, string>;
  init: boolean;
}

/**
 * One replica of one process type of one release as a Swarm service of one task: host-mode
 * published port (the proxy reaches each task at `node-address:port`), DNS round-robin endpoint
 * (no VIP: paas routes per task), spread over nodes, placement constraints, limits and hardening
 * as a local container gets them.
 */
export function serviceSpec(spec: ContainerSpec, ctx: ServiceSpecContext): Record<string, unknown> {
  const labels = {
    ...ctx.labels,
    ...(spec.labels ?? {}),
    [SWARM_LABELS.managed]: '1',
    [SWARM_LABELS.app]: spec.app,
    [SWARM_LABELS.process]: spec.process,
    [SWARM_LABELS.release]: String(spec.release),
    [SWARM_LABELS.replica]: String(spec.replica),
    [SWARM_LABELS.port]: String(spec.port),
  };
  const hardened = spec.hardening !== false;
  const limits = {
    ...(spec.memoryBytes ? { MemoryBytes: spec.memoryBytes } : {}),
    ...(spec.nanoCpus ? { NanoCPUs: spec.nanoCpus } : {}),
    ...(hardened ? { Pids: spec.pidsLimit ?? DEFAULT_PIDS_LIMIT } : {}),
  };
  return {
    Name: serviceName(spec),
    // `paas.app` on the service only (nodes:list and nodes:remove read it); never on its task
    // containers, which the local runtime on the manager would take for its own
    Labels: { ...labels, 'paas.app': spec.app },
    TaskTemplate: {
      ContainerSpec: {
        Image: ctx.image,
        ...(spec.command ? { Args: commandArgs(spec.command, ctx.entrypoint) } : {}),
        Env: specEnv(spec),
        Labels: labels,
        Init: ctx.init,
        StopGracePeriod: STOP_GRACE_S * 1_000_000_000,
        ...(hardened ? { CapabilityDrop: [...DROPPED_CAPABILITIES] } : {}),
        Mounts: (spec.binds ?? []).map(bindMount),
      },
      Resources: { Limits: limits },
      RestartPolicy: swarmRestart(spec),
      Placement: {
        Constraints: spec.placement ?? [],
        Preferences: [{ Spread: { SpreadDescriptor: 'node.id' } }],
      },
      Networks: [{ Target: ctx.network, Aliases: [`${spec.app}.${spec.process}`] }],
    },
    Mode: { Replicated: { Replicas: 1 } },
    EndpointSpec: { Mode: 'dnsrr', Ports: [{ Protocol: 'tcp', TargetPort: spec.port, PublishMode: 'host' }] },
  };
}

/** `host:container[:ro]` as a Swarm bind mount. */
export function bindMount(bind: string): { Type: 'bind'; Source: string; Target: string; ReadOnly: boolean } {
  const [source = '', target = '', mode] = bind.split(':');
  return { Type: 'bind', Source: source, Target: target, ReadOnly: mode === 'ro' };
}
