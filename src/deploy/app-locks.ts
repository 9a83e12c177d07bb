/**
 * One operation per app at a time (deploys, scale, config rollouts, rollbacks), different apps in
 * parallel. A caller that has to wait is told so first, so a second `git push` says why it hangs.
 */
export class AppLocks {
  private readonly tails = new Map<string, Promise<void>>();
  private readonly holders = new Map<string, string>();

  isLocked(app: string): boolean {
    return this.tails.has(app);
  }

  async withLock<T>(app: string, what: string, fn: () => Promise<T>, onWait?: (holder: string) => void, signal?: AbortSignal): Promise<T> {
    const prev = this.tails.get(app);
    let release!: () => void;
    const mine = new Promise<void>((r) => (release = r));
    const tail = (prev ?? Promise.resolve()).then(() => mine);
    this.tails.set(app, tail);
    try {
      if (prev) {
        onWait?.(this.holders.get(app) ?? 'another operation');
        await Promise.race([
          prev,
          new Promise((_, reject) => signal?.addEventListener('abort', () => reject(signal.reason), { once: true })),
        ]);
      }
      this.holders.set(app, what);
      return await fn();
    } finally {
      release();
      if (this.tails.get(app) === tail) {
        this.tails.delete(app);
        this.holders.delete(app);
      }
    }
  }
}
