import fs from 'node:fs';
import path from 'node:path';
import { dataPaths } from '../config/server-config.js';
import { InputErrors } from '../inputs/input-errors.js';
import { StorageErrors } from './storage-errors.js';

/**
 * `storage:mount` input: `<host-dir>:<container-dir>[:ro]`. A relative host dir lives under
 * `<data-dir>/storage/<app>/` (anyone may use it; it is created). An absolute host dir must be
 * inside the app's storage dir or, for admin keys only, inside a root an admin allowed with
 * `storage:allow-root DIR` (a global list). Some host paths are refused for everyone, whatever the
 * roots: `/`, /etc, /root, /boot, /proc, /sys, /dev, /run, /var/run, /var/lib/docker, the Docker
 * socket and its dir, and the paas data dir outside `storage/` (keys, database); so is a host dir
 * holding one of them, and any `..`. Symlinks are never followed: every component of the host
 * path is lstat'ed from `/` down and a symlink anywhere is refused, at mount time and again at
 * every rollout (`checkBinds`), since an app can plant one in its own storage between rollouts.
 * Stored in the app setting `mounts` as Docker binds (`/abs/host:/container[:ro]`), which
 * `Rollout.spec()` reads at the next rollout.
 */

export interface MountContext {
  app: string;
  dataDir: string;
  role: 'admin' | 'developer';
  /** the roots an admin allowed (`storage:allow-root`); absent: none */
  allowedRoots?: string[];
  /** Docker socket paths to protect; default /var/run/docker.sock, /run/docker.sock and DOCKER_HOST's */
  dockerSockets?: string[];
  /** every app's stored binds (this app's included): a new bind must not nest with a writable one */
  allBinds?: AppBind[];
}

/** What a rollout needs to check an app's binds again: the data dir, the allowed roots and every app's binds. */
export interface StoragePolicy {
  dataDir: string;
  allowedRoots: string[];
  dockerSockets?: string[];
  /** the stored binds of every app (this one included), to refuse nesting; absent: not checked */
  allBinds?: AppBind[];
}

/** One stored bind and the app it belongs to. */
export interface AppBind {
  app: string;
  bind: string;
}

export interface ParsedMount {
  host: string;
  container: string;
  readOnly: boolean;
  /** true when the host dir is inside the app's own storage dir */
  inAppStorage: boolean;
  bind: string;
}

/** The global setting holding the allowed roots, a JSON list of absolute paths. */
export const ALLOWED_ROOTS_KEY = 'storage.allowed-roots';

/** Never mounted into an app and never an allowed root, nor any dir inside or holding one of them. */
export const NEVER_MOUNTED = ['/etc', '/root', '/boot', '/proc', '/sys', '/dev', '/run', '/var/run', '/var/lib/docker'];

const usage = (message: string) => InputErrors.storageUsage(`${message}; nothing was changed`);

export function appStorageDir(dataDir: string, app: string): string {
  return dataPaths(dataDir).appStorage(app);
}

export function defaultDockerSockets(env: NodeJS.ProcessEnv = process.env): string[] {
  const s = ['/var/run/docker.sock', '/run/docker.sock'];
  if (env.DOCKER_HOST?.startsWith('unix://')) s.push(env.DOCKER_HOST.slice('unix://'.length));
  return s;
}

/** The allowed roots stored under ALLOWED_ROOTS_KEY; anything unreadable counts as none. */
export function parseAllowedRoots(raw: string | undefined): string[] {
  if (!raw) return [];
  try {
    const v: unknown = JSON.parse(raw);
    return Array.isArray(v) ? v.filter((r): r is string => typeof r === 'string' && path.isAbsolute(r)) : [];
  } catch {
    return [];
  }
}

/** `a` is `b` or inside it. */
function within(a: string, b: string): boolean {
  const rel = path.relative(b, a);
  return rel === '' || (!rel.startsWith('..') && !path.isAbsolute(rel));
}

/** realpath of the longest existing prefix, plus the rest: a symlink anywhere on the way is followed (for the admin-given data dir and socket paths only). */
export function resolveReal(p: string): string {
  let head = path.resolve(p);
  const rest: string[] = [];
  for (;;) {
    try {
      return path.join(fs.realpathSync.native(head), ...rest);
    } catch {
      const parent = path.dirname(head);
      if (parent === head) return path.join(head, ...rest);
      rest.unshift(path.basename(head));
      head = parent;
    }
  }
}

/**
 * The first component of the absolute path `p` that is a symlink, lstat'ed from `/` down and
 * never followed; null when there is none. Components past the first missing one do not exist,
 * so they cannot be symlinks (Docker creates a missing bind source as a plain dir).
 */
export function firstSymlink(p: string): string | null {
  let cur = path.parse(p).root;
  for (const part of path.normalize(p).split(path.sep).filter(Boolean)) {
    cur = path.join(cur, part);
    let st: fs.Stats;
    try {
      st = fs.lstatSync(cur);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'ENOTDIR') return null;
      throw e;
    }
    if (st.isSymbolicLink()) return cur;
  }
  return null;
}

/** A refused host path: what kind, and the reason (the caller adds what it refuses and what happens next). */
export interface BindProblem {
  kind: 'symlink' | 'forbidden';
  reason: string;
}

/**
 * Places no host path may be in or hold, whatever the role and the roots: the NEVER_MOUNTED dirs,
 * the Docker socket (for a root: its dir too), the data dir outside storage/.
 */
function neverProblem(host: string, dataDir: string, sockets: string[], socketDir = false): string | null {
  if (host === '/') return '/ holds the whole host';
  for (const sock of sockets) {
    for (const s of new Set([path.resolve(sock), resolveReal(sock)])) {
      if (within(host, socketDir ? path.dirname(s) : s) || within(s, host))
        return `it is ${socketDir ? "in the Docker socket's dir" : 'the Docker socket'} or holds it (${sock}), which would give the app the host`;
    }
  }
  for (const p of NEVER_MOUNTED) if (within(host, p) || within(p, host)) return `${p} is never mounted into apps`;
  const data = resolveReal(dataDir);
  if (within(data, host) || (within(host, data) && !within(host, path.join(data, 'storage')))) {
    return 'it exposes the paas data dir (keys, database)';
  }
  return null;
}

/**
 * Checks one bind's host path without following symlinks: null when `host` may be mounted into
 * `app`, else the problem. `host` must be absolute and normalized. `role` 'developer' allows only
 * the app's own storage dir; 'admin' also the allowed roots.
 */
export function checkBindPath(host: string, ctx: MountContext): BindProblem | null {
  if (!path.isAbsolute(host) || host.split('/').includes('..')) return { kind: 'forbidden', reason: "'..' is never allowed in a host dir" };
  const link = firstSymlink(host);
  if (link) return { kind: 'symlink', reason: `${link} is a symlink (symlinks on a host path are never followed)` };
  const never = neverProblem(host, ctx.dataDir, ctx.dockerSockets ?? defaultDockerSockets());
  if (never) return { kind: 'forbidden', reason: never };
  const own = path.join(resolveReal(ctx.dataDir), 'storage', ctx.app);
  if (within(host, own)) return null;
  if (ctx.role !== 'admin') return { kind: 'forbidden', reason: `only admin keys may mount a host dir outside ${own}` };
  if ((ctx.allowedRoots ?? []).some((r) => within(host, r))) return null;
  const roots = ctx.allowedRoots?.length ? `the allowed roots (${ctx.allowedRoots.join(', ')})` : 'any allowed root (there is none)';
  return { kind: 'forbidden', reason: `it is outside ${own} and ${roots}; an admin may allow one with storage:allow-root DIR` };
}

/**
 * Why a bind may not sit beside the others: a host dir strictly inside a dir that some container
 * mounts writable can be swapped by that container (for a symlink to `/`, say) at any time, and
 * Docker follows whatever is there when it restarts a crashed container by its restart policy,
 * without paas checking again. So no bind's host dir may be strictly inside a writable bind's host
 * dir, of any app, this one included. The same dir mounted twice is fine: a mount's own root cannot
 * be replaced from inside. `self` is left out of `others` by the caller. Null: no nesting.
 */
export function nestingProblem(
  self: { app: string; host: string; readOnly: boolean },
  others: AppBind[],
  /** false: only whether `self` is inside a writable one (checking a whole list finds every pair that way) */
  holding = true,
): string | null {
  for (const o of others) {
    const other = splitBind(o.bind);
    if (other.host === self.host) continue;
    const whose = o.app === self.app ? `its own mount at ${other.container}` : `app '${o.app}''s mount at ${other.container}`;
    if (!other.readOnly && within(self.host, other.host))
      return `it is inside ${other.host}, which ${whose} can write: a container could replace it with a symlink`;
    if (holding && !self.readOnly && within(other.host, self.host))
      return `it holds ${other.host} (${whose}), so this mount could replace that dir with a symlink`;
  }
  return null;
}

function refuse(problem: BindProblem, message: string) {
  return problem.kind === 'symlink' ? StorageErrors.symlink(message) : InputErrors.storageForbidden(message);
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
  const own = path.join(resolveReal(ctx.dataDir), 'storage', ctx.app);
  // `..` is refused before resolving, so `a/../b` never reaches outside and never hides where it goes
  const host = rawHost.split('/').includes('..') ? rawHost : path.resolve(own, rawHost);
  const problem = checkBindPath(host, ctx);
  if (problem) throw refuse(problem, `refusing to mount ${rawHost}: ${problem.reason}; nothing was changed`);
  // the bind this one replaces (same container dir) is not a neighbour of it
  const others = (ctx.allBinds ?? []).filter((b) => b.app !== ctx.app || splitBind(b.bind).container !== container);
  const nested = nestingProblem({ app: ctx.app, host, readOnly }, others);
  if (nested) throw StorageErrors.nested(`refusing to mount ${rawHost}: ${nested}; nothing was changed`);
  return { host, container, readOnly, inAppStorage: within(host, own), bind: `${host}:${container}${readOnly ? ':ro' : ''}` };
}

/**
 * Checks an app's stored binds again right before a rollout starts containers (the app may have
 * planted a symlink in its storage since, or an admin removed a root): throws the first problem.
 */
export function checkBinds(app: string, binds: string[], policy: StoragePolicy): void {
  for (const bind of binds) {
    const { host, container, readOnly } = splitBind(bind);
    const problem = checkBindPath(host, { app, role: 'admin', ...policy });
    const refused = (reason: string) =>
      `refusing to mount ${host} at ${container} in ${app}: ${reason}; no container was started and the running ones keep serving (storage:unmount ${app} ${container})`;
    if (problem) throw refuse(problem, refused(problem.reason));
    const others = (policy.allBinds ?? []).filter((b) => !(b.app === app && b.bind === bind));
    // each pair is found from its inner side, so the message names the mount to take away
    const nested = nestingProblem({ app, host, readOnly }, others, false);
    if (nested) throw StorageErrors.nested(refused(nested));
  }
}

/**
 * Checks a root for `storage:allow-root`: an absolute, existing directory reached without
 * symlinks, neither inside nor holding a never-mounted place. Returns it normalized.
 */
export function checkAllowedRoot(dir: string, policy: Omit<StoragePolicy, 'allowedRoots'>): string {
  if (!path.isAbsolute(dir)) throw StorageErrors.root(`a root must be an absolute path, got '${dir}'; nothing was changed`);
  if (dir.split('/').includes('..') || /[,:\0\n]/.test(dir))
    throw StorageErrors.root(`a root must not contain '..', commas, colons or control characters, got '${dir}'; nothing was changed`);
  const root = path.resolve(dir);
  const link = firstSymlink(root);
  if (link)
    throw StorageErrors.symlink(
      `refusing the root ${dir}: ${link} is a symlink (symlinks on a host path are never followed); nothing was changed`,
    );
  let isDir = false;
  try {
    isDir = fs.lstatSync(root).isDirectory();
  } catch {
    isDir = false;
  }
  if (!isDir) throw StorageErrors.root(`a root must be an existing directory, got '${dir}'; nothing was changed`);
  const never = neverProblem(root, policy.dataDir, policy.dockerSockets ?? defaultDockerSockets(), true);
  if (never) throw InputErrors.storageForbidden(`refusing the root ${dir}: ${never}; nothing was changed`);
  return root;
}

/** A stored bind split back into its parts. */
export function splitBind(bind: string): { host: string; container: string; readOnly: boolean } {
  const parts = bind.split(':');
  const readOnly = parts.length === 3 && parts[2] === 'ro';
  return { host: parts[0] ?? '', container: parts[1] ?? '', readOnly };
}
