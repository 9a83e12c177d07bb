import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { ExtractOptions } from 'tar-fs';
import { GitErrors } from './git-errors.js';
import { findBadLink, MAX_LINK_HOPS } from './tree-links.js';

/**
 * Writes the tree of `sha` into `dest` with `git archive`, using git's quarantine environment
 * when called from inside a pre-receive hook (the pushed objects are not in the repo yet).
 *
 * A pushed tree is the pusher's: nothing it holds may make paas read or write outside `dest`.
 * Unpacking refuses entries no `git add` makes (a name twice, `..` or empty segments, kinds other
 * than file, directory and symlink), since tar-fs would chmod what an earlier link of the same name
 * leads to. Once unpacked, every symlink's whole chain is resolved (resolveInTree), and a commit
 * holding one that leads out of the tree, or loops, is refused with the link named.
 */
export async function exportCommit(
  repoDir: string,
  sha: string,
  dest: string,
  gitEnv: Record<string, string>,
  signal: AbortSignal,
): Promise<void> {
  fs.rmSync(dest, { recursive: true, force: true });
  fs.mkdirSync(dest, { recursive: true, mode: 0o700 });
  // loaded before git starts: Node discards a child's unread stdout once it exits, so git archive
  // must not finish while this import is still pending (a first export then found an empty tree)
  const { default: tar } = await import('tar-fs');
  const child = spawn('git', ['archive', '--format=tar', sha], {
    cwd: repoDir,
    env: { ...process.env, ...gitEnv, GIT_DIR: repoDir },
    signal,
  });
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d));
  const exited = new Promise<number>((resolve) => child.on('close', (c) => resolve(c ?? 1)));
  const guard = new EntryGuard();
  const short = sha.slice(0, 7);
  try {
    // links are judged once the whole tree is out (findBadLink): tar-fs's own check reads a
    // target's spelling, which both lets climbing chains through and refuses links that stay inside
    // (`validateSymlinks` is tar-fs 3's option; its @types predate it)
    const options: ExtractOptions & { validateSymlinks: boolean } = {
      validateSymlinks: false,
      ignore: (_name, header) => guard.skip(header),
    };
    await pipeline(child.stdout, tar.extract(dest, options));
    const code = await exited;
    if (code !== 0) throw new Error(stderr.trim() || `git archive exited ${code}`);
  } catch (cause) {
    // the reason matters to the pusher (e.g. a symlink that leads out of the repository is refused)
    const message = (cause as Error).message.split('\n')[0].split(`${dest}${path.sep}`).join('');
    throw GitErrors.exportFailed(`could not export commit ${short}: ${guard.refusal ?? message}`, cause);
  }
  if (guard.refusal) throw GitErrors.exportFailed(`could not export commit ${short}: ${guard.refusal}`);
  const bad = await findBadLink(dest);
  if (bad) {
    const why = bad.why === 'loop' ? `loops (more than ${MAX_LINK_HOPS} links deep)` : 'leads outside the repository';
    throw GitErrors.exportFailed(`symlink '${printable(bad.link)}' ${why}; the commit is refused`);
  }
}

/**
 * Decides, entry by entry, what tar-fs may unpack. After the first refusal every later entry is
 * skipped too, and `refusal` says why.
 */
class EntryGuard {
  refusal: string | null = null;
  private readonly seen = new Set<string>();

  skip(header?: { name: string; type?: string | null }): boolean {
    if (this.refusal || !header) return true;
    const name = header.name.replace(/\/+$/, '');
    const parts = name.split('/');
    if (name === '' || name.startsWith('/') || parts.some((p) => p === '' || p === '.' || p === '..'))
      this.refusal = `the tree holds an entry named '${printable(header.name)}', which git itself never writes; refused`;
    else if (header.type !== 'file' && header.type !== 'directory' && header.type !== 'symlink')
      this.refusal = `the tree holds '${printable(name)}' of kind ${header.type}, which git itself never writes; refused`;
    else if (this.seen.has(name)) this.refusal = `the tree holds '${printable(name)}' twice, which git itself never writes; refused`;
    this.seen.add(name);
    return this.refusal !== null;
  }
}

/** A path as one printable line: control characters escaped. */
function printable(name: string): string {
  return name.replace(/[\x00-\x1f\x7f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
}

/** Reads a ref's sha in a bare repo, or null. */
export async function resolveRef(repoDir: string, ref: string): Promise<string | null> {
  try {
    const { simpleGit } = await import('simple-git');
    return (await simpleGit(repoDir).revparse(['--verify', '--quiet', ref])).trim() || null;
  } catch {
    return null;
  }
}

/** Whether `file` (a path in the tree) is a regular file at `rev` of a bare repo. */
export async function commitHasFile(repoDir: string, rev: string, file: string): Promise<boolean> {
  try {
    const { simpleGit } = await import('simple-git');
    const type = await simpleGit(repoDir).raw(['cat-file', '-t', `${rev}:${file}`]);
    return type.trim() === 'blob';
  } catch {
    return false;
  }
}
