import { execFileSync } from 'node:child_process';
import { constants } from 'node:fs';
import { statSync } from 'node:fs';
import { access, chmod, chown, lstat, mkdir, readdir, unlink } from 'node:fs/promises';
import path from 'node:path';
import { dataPaths } from '../../config/server-config.js';
import type { Logger } from '../../log/logger.js';
import { ProxyErrors } from '../proxy-errors.js';

/** The system user the proxy runs as once its ports are bound: a proxy bug is not root on the host. */
export interface ProxyUser {
  name: string;
  uid: number;
  gid: number;
}

/** True when this process can (and so must) give up root. */
export function runsAsRoot(): boolean {
  return process.getuid?.() === 0;
}

/** Looks the user up in the passwd database (`getent passwd NAME`); it must exist and not be root. */
export function resolveProxyUser(name: string): ProxyUser {
  let line: string;
  try {
    line = execFileSync('getent', ['passwd', name], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch (err) {
    throw ProxyErrors.userMissing(
      `the proxy user '${name}' does not exist (paas server creates it: useradd --system --no-create-home --shell /usr/sbin/nologin ${name})`,
      err,
    );
  }
  const [, , uid, gid] = line.split('\n')[0].split(':');
  const user = { name, uid: Number(uid), gid: Number(gid) };
  if (!Number.isInteger(user.uid) || !Number.isInteger(user.gid) || user.uid === 0 || user.gid === 0) {
    throw ProxyErrors.userMissing(`the proxy user '${name}' must be an unprivileged user (uid ${uid}, gid ${gid})`);
  }
  return user;
}

/**
 * The first folder on the way to `target` (its parents, from / down) that `user` cannot traverse,
 * said as `<dir> (mode 700, owner root:root)`; null when it can reach it. By mode bits (owner, the
 * user's own group, others), as the kernel checks them without ACLs. A missing folder ends the walk:
 * it is made later, by root, with modes paas chooses.
 */
export function blockedParent(target: string, user: ProxyUser): string | null {
  const parts = path.resolve(target).split(path.sep).filter(Boolean);
  let dir: string = path.sep;
  for (const part of parts.slice(0, -1)) {
    dir = path.join(dir, part);
    let st: ReturnType<typeof statSync>;
    try {
      st = statSync(dir);
    } catch {
      return null;
    }
    const m = st.mode;
    const ok = (st.uid === user.uid && m & 0o100) || (st.gid === user.gid && m & 0o010) || m & 0o001;
    if (!ok) return `${dir} (mode ${(m & 0o7777).toString(8)}, owner ${st.uid}:${st.gid})`;
  }
  return null;
}

/** One line for a data dir or code dir the proxy user cannot reach once it drops root: what blocks it and what to change. */
export function unreachableMessage(user: ProxyUser, what: string, target: string): string | null {
  const blocked = blockedParent(target, user);
  if (!blocked) return null;
  const dir = blocked.split(' ')[0];
  return `the proxy user '${user.name}' cannot reach ${what} ${target}: ${blocked} does not let it through; make it traversable (chmod o+x ${dir}) or put ${what} under a traversable folder`;
}

/** The proxy's own folders: it writes routes and certificates there after dropping root. */
export function proxyDirs(dataDir: string): string[] {
  const paths = dataPaths(dataDir);
  return [path.dirname(paths.proxyState), paths.certs];
}

/**
 * As root, before anything else: the data dir becomes root:<proxy group> 0710 (only root and the
 * proxy can traverse it; the database, keys and repos keep their own 0600/0700 modes), and the
 * proxy's own folders and the regular files in them are chowned to the proxy user (0700/0600).
 * A symlink in those folders (which the proxy user could plant) is removed, so nothing root does
 * there afterwards follows one.
 */
export async function prepareProxyDirs(dataDir: string, user: ProxyUser, log: Logger): Promise<void> {
  await chown(dataDir, 0, user.gid);
  await chmod(dataDir, 0o710);
  for (const dir of proxyDirs(dataDir)) {
    await mkdir(dir, { recursive: true, mode: 0o700 });
    if (!(await lstat(dir)).isDirectory()) throw ProxyErrors.dropFailed(`${dir} is not a directory`);
    await chown(dir, user.uid, user.gid);
    await chmod(dir, 0o700);
    for (const name of await readdir(dir)) {
      const file = path.join(dir, name);
      const st = await lstat(file);
      if (st.isSymbolicLink()) {
        log.warn({ file }, 'removing a symlink from the proxy folder');
        await unlink(file);
      } else if (st.isFile()) {
        await chown(file, user.uid, user.gid);
        await chmod(file, 0o600);
      }
    }
  }
}

/**
 * Gives up root for good: supplementary groups cleared, then gid, then uid (real, effective,
 * saved and fs ids, in every thread: glibc applies set*id to all of them). Checks the result,
 * including that root cannot be taken back.
 */
export function dropPrivileges(user: ProxyUser): void {
  try {
    process.setgroups?.([]);
    process.setgid?.(user.gid);
    process.setuid?.(user.uid);
  } catch (err) {
    throw ProxyErrors.dropFailed(`cannot switch to the proxy user '${user.name}': ${(err as Error).message}`, err);
  }
  const ids = [process.getuid?.(), process.geteuid?.(), process.getgid?.(), process.getegid?.()];
  const groups = process.getgroups?.() ?? [];
  let regained = true;
  try {
    process.setuid?.(0);
  } catch {
    regained = false;
  }
  const want = [user.uid, user.uid, user.gid, user.gid];
  if (regained || ids.some((id, i) => id !== want[i]) || groups.some((g) => g !== user.gid)) {
    throw ProxyErrors.dropFailed(
      `switching to the proxy user '${user.name}' did not drop root (ids ${ids.join(',')}, groups ${groups.join(',')})`,
    );
  }
}

/** After the drop: the proxy must be able to write its folders, or it fails now rather than at the first deploy. */
export async function checkProxyDirsWritable(dataDir: string, user: ProxyUser): Promise<void> {
  for (const dir of proxyDirs(dataDir)) {
    try {
      await access(dir, constants.W_OK | constants.X_OK);
    } catch (err) {
      throw ProxyErrors.dropFailed(
        `the proxy user '${user.name}' cannot write ${dir}: every parent of the data dir must be traversable (o+x)`,
        err,
      );
    }
  }
}
