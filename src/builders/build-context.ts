import { lstatSync } from 'node:fs';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { readTreeFile } from './tree-file.js';

export interface BuildContextOptions {
  /** the Dockerfile's path relative to dir; always sent, even when .dockerignore matches it */
  dockerfile: string;
  /** patterns appended to .dockerignore for this build only (e.g. a generated Dockerfile) */
  extraIgnore?: string[];
}

/**
 * A tar stream of `dir` as `docker build` would send it: `.dockerignore` honoured (same
 * matcher as the docker CLI), the Dockerfile and `.dockerignore` always included, owners
 * normalised to root. With `extraIgnore`, the `.dockerignore` sent is the file plus those
 * lines, so the daemon also drops them from the context after reading the Dockerfile.
 */
export async function createBuildContext(dir: string, opts: BuildContextOptions): Promise<Readable> {
  // loaded at the first build: a control plane that only serves stays smaller
  const [{ default: tar }, { default: dockerignoreModule }] = await Promise.all([import('tar-fs'), import('@balena/dockerignore')]);
  // CommonJS module: its `default` property is the factory itself (typed that way under NodeNext).
  const dockerignore = dockerignoreModule.default;
  // a regular file only: a link is refused (the export already refused one leading out of the tree)
  const original = await readTreeFile(dir, '.dockerignore');
  const extra = opts.extraIgnore ?? [];
  const ignoreText = [original ?? '', ...extra].join('\n');
  const ig = dockerignore({ ignorecase: false }).add(ignoreText);
  // Exceptions (`!pattern`) can re-include files below an ignored directory, so then directories are never pruned.
  const hasExceptions = ignoreText.split('\n').some((l) => l.trim().startsWith('!'));
  const always = new Set([toPosix(opts.dockerfile), '.dockerignore']);
  const synthesizeIgnore = extra.length > 0;

  const pack = tar.pack(dir, {
    ignore(name: string) {
      const rel = toPosix(path.relative(dir, name));
      if (rel === '' || rel.startsWith('..')) return false;
      if (rel === '.dockerignore') return synthesizeIgnore;
      if (always.has(rel)) return false;
      if (!ig.ignores(rel)) return false;
      if (hasExceptions && isDir(name)) return false;
      return true;
    },
    map(header) {
      header.uid = 0;
      header.gid = 0;
      return header;
    },
    finalize: !synthesizeIgnore,
    finish(p) {
      if (!synthesizeIgnore) return;
      p.entry({ name: '.dockerignore', mode: 0o644, mtime: new Date(0) }, `${ignoreText}\n`);
      p.finalize();
    },
  });
  return pack as unknown as Readable;
}

function toPosix(p: string): string {
  return p.split(path.sep).join('/');
}

function isDir(p: string): boolean {
  try {
    return lstatSync(p).isDirectory();
  } catch {
    return false;
  }
}
