import { APP_NAME } from '../contracts/names.js';
import type { AppError } from '../errors/app-error.js';
import { GitErrors } from './git-errors.js';

/**
 * The app named by a git path as a client sends it: `myapp`, `/myapp`, `myapp.git`, `/myapp.git`
 * and `~/myapp` all name `myapp`. Anything with another slash, `..`, or a bad name is refused
 * before any file is touched.
 */
export function appFromRepoPath(raw: string): string {
  let p = raw.trim();
  if (p.startsWith('~/')) p = p.slice(2);
  if (p.startsWith('/')) p = p.slice(1);
  if (p.endsWith('/')) p = p.slice(0, -1);
  if (p.endsWith('.git')) p = p.slice(0, -4);
  if (!APP_NAME.test(p)) throw badRepoPath(raw);
  return p;
}

/** The error for a git request whose path names no app repository. */
export function badRepoPath(path: string): AppError {
  return GitErrors.badPath(`'${path}' is not an app repository: use ssh://paas@<host>/<app> with a lowercase app name`);
}
