import { constants } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { BuildErrors } from './build-errors.js';

/**
 * The files paas itself reads or writes in an exported tree (Procfile, app.json, .dockerignore,
 * package.json, requirements.txt, Dockerfile.paas) are opened only as regular files, never through
 * a symlink: every part of the path is lstat'ed and the file is opened with O_NOFOLLOW. The export
 * already refuses links that lead out of the tree; this keeps a link from being followed here even
 * if one slipped through.
 */

/** What is at `rel` in the tree, without following any link: null when nothing is there. */
export type TreeEntry = { kind: 'file' | 'dir' | 'other' } | { kind: 'link'; at: string };

export async function treeEntry(root: string, rel: string): Promise<TreeEntry | null> {
  const parts = rel.split('/').filter((p) => p !== '' && p !== '.');
  for (let i = 0; i < parts.length; i++) {
    const at = parts.slice(0, i + 1).join('/');
    const st = await fs.lstat(path.join(root, at)).catch(() => null);
    if (!st) return null;
    if (st.isSymbolicLink()) return { kind: 'link', at };
    const last = i === parts.length - 1;
    if (last) return { kind: st.isFile() ? 'file' : st.isDirectory() ? 'dir' : 'other' };
    if (!st.isDirectory()) return null;
  }
  return { kind: 'dir' };
}

/**
 * Whether the tree has `rel` as a file to build from: a regular file, or a symlink (which a read
 * through readTreeFile then refuses, and which the engine resolves inside the build context).
 */
export async function treeFileExists(root: string, rel: string): Promise<boolean> {
  const e = await treeEntry(root, rel);
  return e !== null && (e.kind === 'file' || e.kind === 'link');
}

/** The text of the regular file `rel` of the tree, or null when there is none; a symlink or a non-file is refused. */
export async function readTreeFile(root: string, rel: string): Promise<string | null> {
  const e = await treeEntry(root, rel);
  if (e === null) return null;
  if (e.kind !== 'file') throw notAFile(rel, e);
  let handle: fs.FileHandle;
  try {
    handle = await fs.open(path.join(root, rel), constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch (err) {
    throw BuildErrors.badSource(`cannot read ${rel} in the repository`, err);
  }
  try {
    if (!(await handle.stat()).isFile()) throw notAFile(rel, { kind: 'other' });
    return await handle.readFile('utf8');
  } finally {
    await handle.close();
  }
}

/**
 * Writes `content` as the regular file `rel` at the top of the tree: whatever entry has that name
 * (a file, a symlink) is removed first, and the file is created anew with O_EXCL | O_NOFOLLOW, so
 * the write can never land where a link points.
 */
export async function writeTreeFile(root: string, rel: string, content: string): Promise<void> {
  if (rel.includes('/')) throw BuildErrors.badSource(`${rel}: paas writes only at the top of the build dir`);
  const file = path.join(root, rel);
  const e = await treeEntry(root, rel);
  if (e?.kind === 'dir') throw BuildErrors.badSource(`${rel} is a directory in the repository; paas writes its generated file there`);
  try {
    if (e !== null) await fs.unlink(file);
    const handle = await fs.open(file, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o644);
    try {
      await handle.writeFile(content);
    } finally {
      await handle.close();
    }
  } catch (err) {
    throw BuildErrors.badSource(`cannot write ${rel} into the build directory`, err);
  }
}

function notAFile(rel: string, e: TreeEntry): Error {
  if (e.kind !== 'link') return BuildErrors.badSource(`${rel} in the repository is not a regular file`);
  const what = e.at === rel ? `${rel} is a symlink` : `${rel} is behind the symlink '${e.at}'`;
  return BuildErrors.badSource(`${what} in the repository; paas reads it only as a regular file: commit the file itself`);
}
