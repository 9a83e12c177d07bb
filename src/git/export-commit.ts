import { spawn } from 'node:child_process';
import fs from 'node:fs';
import { pipeline } from 'node:stream/promises';
import { GitErrors } from './git-errors.js';

/**
 * Writes the tree of `sha` into `dest` with `git archive`, using git's quarantine environment
 * when called from inside a pre-receive hook (the pushed objects are not in the repo yet).
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
  try {
    await pipeline(child.stdout, tar.extract(dest));
    const code = await exited;
    if (code !== 0) throw new Error(stderr.trim() || `git archive exited ${code}`);
  } catch (cause) {
    // the reason matters to the pusher (e.g. a symlink that leads out of the repository is refused)
    throw GitErrors.exportFailed(`could not export commit ${sha.slice(0, 7)}: ${(cause as Error).message.split('\n')[0]}`, cause);
  }
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
