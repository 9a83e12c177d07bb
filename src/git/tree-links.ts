import fs from 'node:fs/promises';
import path from 'node:path';

/** The kernel's own bound on links followed in one path lookup (Linux MAXSYMLINKS). */
export const MAX_LINK_HOPS = 40;

/**
 * Where a path of the tree leads once every symlink in it is followed:
 * - `inside`: `path` is the real path relative to the root ('' for the root itself), with no
 *   symlink in it; `exists` is false when some part of it is missing (a dangling link)
 * - `outside`: a `..` above the root or an absolute link target
 * - `loop`: more than MAX_LINK_HOPS links (a cycle, or a chain the kernel would refuse too)
 */
export type TreeResolution = { kind: 'inside'; path: string; exists: boolean } | { kind: 'outside' } | { kind: 'loop' };

/**
 * Resolves `rel` (a posix path relative to `root`) as the kernel would, one component at a time
 * with lstat and readlink, but without ever leaving `root`: an absolute target or a `..` above
 * the root ends it as `outside`. Below a missing entry (or a file used as a directory) the rest is
 * followed by its spelling, as if that entry were a plain directory, so that a dangling link which
 * would lead out once the missing part appears counts as `outside` too.
 */
export async function resolveInTree(root: string, rel: string): Promise<TreeResolution> {
  const done: string[] = [];
  const todo = rel.split('/');
  let hops = 0;
  /** length of `done` at which the path stopped existing; null while it exists */
  let missingFrom: number | null = null;
  for (let c = todo.shift(); c !== undefined; c = todo.shift()) {
    if (c === '' || c === '.') continue;
    if (c === '..') {
      if (done.length === 0) return { kind: 'outside' };
      done.pop();
      if (missingFrom !== null && done.length < missingFrom) missingFrom = null;
      continue;
    }
    done.push(c);
    if (missingFrom !== null) continue;
    const at = path.join(root, ...done);
    const st = await fs.lstat(at).catch(() => null);
    if (!st) {
      missingFrom = done.length;
      continue;
    }
    if (!st.isSymbolicLink()) {
      if (!st.isDirectory() && todo.some((t) => t !== '' && t !== '.')) missingFrom = done.length;
      continue;
    }
    if (++hops > MAX_LINK_HOPS) return { kind: 'loop' };
    const target = await fs.readlink(at);
    if (target.startsWith('/')) return { kind: 'outside' };
    done.pop();
    todo.unshift(...target.split('/'));
  }
  return { kind: 'inside', path: done.join('/'), exists: missingFrom === null };
}

export interface BadLink {
  /** the link's path relative to the root */
  link: string;
  why: 'outside' | 'loop';
}

/**
 * Walks the tree without following anything (readdir's entry types are lstat's) and resolves
 * every symlink's whole chain: the first link, in byte order of paths, that leads out of the tree
 * or loops, or null when every link stays inside (dangling ones included).
 */
export async function findBadLink(root: string): Promise<BadLink | null> {
  const walk = async (dir: string): Promise<BadLink | null> => {
    const entries = await fs.readdir(path.join(root, dir), { withFileTypes: true });
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const e of entries) {
      const rel = dir === '' ? e.name : `${dir}/${e.name}`;
      if (e.isSymbolicLink()) {
        const r = await resolveInTree(root, rel);
        if (r.kind !== 'inside') return { link: rel, why: r.kind };
      } else if (e.isDirectory()) {
        const bad = await walk(rel);
        if (bad) return bad;
      }
    }
    return null;
  };
  return walk('');
}
