import type { Writable } from 'node:stream';
import type { AppLocks } from '../deploy/app-locks.js';

export type Locks = Pick<AppLocks, 'withLock'>;

/** Runs `fn` under the app lock; a caller that has to wait is told who holds it first. */
export function underLock<T>(
  locks: Locks,
  app: string,
  what: string,
  out: Writable | null,
  signal: AbortSignal,
  fn: () => Promise<T>,
): Promise<T> {
  return locks.withLock(app, what, fn, (holder) => out?.write(`-----> Waiting for ${holder} of ${app} to finish\n`), signal);
}
