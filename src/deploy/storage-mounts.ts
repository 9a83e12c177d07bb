import fs from 'node:fs';
import path from 'node:path';
import { dataPaths } from '../config/server-config.js';
import { InputErrors } from './input-errors.js';

/**
 * `storage:mount` input: `<host-dir>:<container-dir>[:ro]`. A relative host dir lives under
 * `<data-dir>/storage/<app>/` (anyone may use it; it is created). Anything else is a host path
 * outside the app's storage: allowed for admin keys only. Some host paths are refused for
 * everyone: the Docker socket and any directory holding it (a container with the socket owns the
 * host), /proc, /sys, /dev, `/`, and the paas data dir outside `storage/` (keys, database).
 * Symlinks are resolved before the checks. Stored in the app setting `mounts` as Docker binds
 * (`/abs/host:/container[:ro]`), which `Rollout.spec()` reads at the next rollout.
 */

export interface MountContext {
  app: string;
  dataDir: string;
  role: 'admin' | 'developer';
  /** Docker socket paths to protect; default /var/run/docker.sock, /run/docker.sock and DOCKER_HOST's */
  dockerSockets?: string[];
}

export interface ParsedMount {
  host: string;
  container: string;
  readOnly: boolean;
  /** true when the host dir is inside the app's own storage dir */
  inAppStorage: boolean;
  bind: string;
}

const usage = (message: string) => InputErrors.storageUsage(`${message}; nothing was changed`);
const refused = (message: string) => InputErrors.storageForbidden(`${message}; nothing was changed`);

export function appStorageDir(dataDir: string, app: string): string {
  return dataPaths(dataDir).appStorage(app);
}

export function defaultDockerSockets(env: NodeJS.ProcessEnv = process.env): string[] {
  const s = ['/var/run/docker.sock', '/run/docker.sock'];
  if (env.DOCKER_HOST?.startsWith('unix://')) s.push(env.DOCKER_HOST.slice('unix://'.length));
  return s;
}

/** `a` is `b` or inside it. */
function within(a: string, b: string): boolean {
  const rel = path.relative(b, a);
  return rel === '' || (!rel.startsWith('..') && !path.isAbsolute(rel));
}

/** realpath of the longest existing prefix, plus the rest: a symlink anywhere on the way is followed. */
export function resolveReal(p: string): string {
  let head = path.resolve(p);
  const rest: string[] = [];
  for (;;) {
    try {
      return path.join(fs.realpathSync(head), ...rest);
    } catch {
      const parent = path.dirname(head);
      if (parent === head) return path.join(head, ...rest);
      rest.unshift(path.basename(head));
      head = parent;
    }
  }
}

function checkContainerDir(c: string): string {
  if (!c.startsWith('/')) throw usage(`the container dir must be an absolute path, got '${c}'`);
  if (c.split('/').includes('..')) throw usage(`the container dir must not contain '..', got '${c}'`);
  const n = path.posix.normalize(c).replace(/\/+$/, '');
  if (n === '' || n === '/') throw usage('the container dir must not be /');
  if (/[,\s\0]/.test(n)) throw usage(`the container dir must not contain spaces or commas, got '${c}'`);
  for (const p of ['/proc', '/sys', '/dev']) if (n === p || n.startsWith(`${p}/`)) throw usage(`cannot mount over ${p} in the container`);
  return n;
}

/** Parses and authorizes one mount; throws exit 2 for malformed input, exit 1 for a refused host path. */
export function parseMount(spec: string, ctx: MountContext): ParsedMount {
  const parts = spec.split(':');
  let readOnly = false;
  if (parts.length === 3 && (parts[2] === 'ro' || parts[2] === 'rw')) {
    readOnly = parts[2] === 'ro';
    parts.pop();
  }
  if (parts.length !== 2 || !parts[0] || !parts[1]) throw usage(`'${spec}' is not <host-dir>:<container-dir>[:ro] (e.g. data:/app/data)`);
  const [rawHost, rawContainer] = parts as [string, string];
  if (/[,\0\n]/.test(rawHost)) throw usage(`the host dir must not contain commas or control characters, got '${rawHost}'`);
  const container = checkContainerDir(rawContainer);
  const dataDir = resolveReal(ctx.dataDir);
  const own = resolveReal(appStorageDir(ctx.dataDir, ctx.app));
  const requested = path.isAbsolute(rawHost) ? path.resolve(rawHost) : path.resolve(appStorageDir(ctx.dataDir, ctx.app), rawHost);
  const host = resolveReal(requested);

  for (const sock of ctx.dockerSockets ?? defaultDockerSockets()) {
    const real = resolveReal(sock);
    if (within(real, host) || within(host, real) || within(sock, requested) || within(requested, sock))
      throw refused(`refusing to mount ${rawHost}: it is or contains the Docker socket (${sock}), which would give the app the host`);
  }
  for (const p of ['/proc', '/sys', '/dev']) {
    if (within(host, p) || within(requested, p)) throw refused(`refusing to mount ${rawHost}: ${p} is never mounted into apps`);
  }
  if (host === '/') throw refused('refusing to mount /: it holds the Docker socket and the paas data dir');
  const inAppStorage = within(host, own);
  if (!inAppStorage && (within(dataDir, host) || (within(host, dataDir) && !within(host, path.join(dataDir, 'storage'))))) {
    throw refused(`refusing to mount ${rawHost}: it exposes the paas data dir (keys, database); use a dir under storage/${ctx.app}/`);
  }
  if (!inAppStorage && ctx.role !== 'admin') {
    throw refused(
      `only admin keys may mount ${rawHost} (outside ${appStorageDir(ctx.dataDir, ctx.app)}); give a relative dir such as data:${container}`,
    );
  }
  return { host, container, readOnly, inAppStorage, bind: `${host}:${container}${readOnly ? ':ro' : ''}` };
}

/** A stored bind split back into its parts. */
export function splitBind(bind: string): { host: string; container: string; readOnly: boolean } {
  const parts = bind.split(':');
  const readOnly = parts.length === 3 && parts[2] === 'ro';
  return { host: parts[0] ?? '', container: parts[1] ?? '', readOnly };
}
