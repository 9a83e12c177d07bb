import type { Writable } from 'node:stream';

/**
 * One operation per app at a time (deploys, scale, config rollouts, rollbacks), different apps in
 * parallel. A caller that has to wait is told so first, so a second `git push` says why it hangs.
 * A waiter whose signal aborts leaves the queue without running and without letting anyone past
 * the operation it was waiting for.
 */
export class AppLocks {
  private readonly tails = new Map<string, Promise<void>>();
  private readonly holders = new Map<string, { what: string }>();

  isLocked(app: string): boolean {
    return this.tails.has(app);
  }

  async withLock<T>(app: string, what: string, fn: () => Promise<T>, onWait?: (holder: string) => void, signal?: AbortSignal): Promise<T> {
    if (signal?.aborted) throw signal.reason;
    const prev = this.tails.get(app);
    let release!: () => void;
    const mine = new Promise<void>((r) => (release = r));
    const tail = (prev ?? Promise.resolve()).then(() => mine);
    this.tails.set(app, tail);
    const forget = () => {
      if (this.tails.get(app) === tail) this.tails.delete(app);
    };
    let holder: { what: string } | null = null;
    try {
      if (prev) {
        onWait?.(this.holders.get(app)?.what ?? 'another operation');
        await untilDoneOrAborted(prev, signal);
      }
      holder = { what };
      this.holders.set(app, holder);
      return await fn();
    } finally {
      release();
      if (holder) {
        if (this.holders.get(app) === holder) this.holders.delete(app);
        // everything queued before this caller is done: nobody holds the lock unless queued after it
        forget();
      } else if (this.tails.get(app) === tail && prev) {
        // aborted while waiting, last in the queue: the queue ends with those ahead again
        this.tails.set(app, prev);
      } else {
        // aborted while waiting with others queued after it: they stay behind those ahead
        void tail.then(forget);
      }
    }
  }
}

function untilDoneOrAborted(p: Promise<void>, signal: AbortSignal | undefined): Promise<void> {
  if (!signal) return p;
  return new Promise<void>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    p.then(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    });
  });
}

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
