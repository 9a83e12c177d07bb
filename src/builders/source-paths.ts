import fs from 'node:fs';
import path from 'node:path';
import { resolveInTree } from '../git/tree-links.js';
import { BuildErrors } from './build-errors.js';

/**
 * `build-dir` and `dockerfile-path` as a user types them: a relative path inside the repository,
 * normalised (`./a//b/` -> `a/b`). Absolute paths, `..` segments, backslashes and control
 * characters are refused; `.` or an empty path means the root (null).
 */
export function parseRepoPath(text: string, what: string): string | null {
  if (text.startsWith('/') || text.includes('\\') || /[\x00-\x1f\x7f]/.test(text) || text.length > 1024)
    throw BuildErrors.path(`${what} must be a relative path inside the repository, got '${text.slice(0, 80)}'; nothing was changed`);
  if (text.split('/').includes('..'))
    throw BuildErrors.path(`${what} must stay inside the repository ('..' is refused), got '${text.slice(0, 80)}'; nothing was changed`);
  const norm = path.posix.normalize(text).replace(/\/+$/, '');
  return norm === '.' || norm === '' ? null : norm;
}

/**
 * `rel` inside the exported tree `root`, every symlink resolved by resolveInTree (component by
 * component, never by the kernel, never out of the tree): the real path, holding no link. A link
 * that leads out of the tree or loops, a missing path, or one that is not a `kind` fails the build
 * before anything is built.
 */
export async function resolveInside(root: string, rel: string, what: string, kind: 'dir' | 'file'): Promise<string> {
  const r = await resolveInTree(root, rel);
  if (r.kind !== 'inside') throw BuildErrors.path(`${what} '${rel}' leads outside the repository (a symlink); refused`);
  const real = path.join(fs.realpathSync.native(root), r.path);
  const stat = r.exists ? await fs.promises.lstat(real).catch(() => null) : null;
  if (!stat) throw BuildErrors.path(`${what} '${rel}' is not in the pushed commit`);
  if (kind === 'dir' ? !stat.isDirectory() : !stat.isFile())
    throw BuildErrors.path(`${what} '${rel}' is not a ${kind === 'dir' ? 'directory' : 'file'}`);
  return real;
}
