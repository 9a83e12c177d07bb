import type { Target } from './target.js';

/**
 * Round-robin over a service's targets that are not down. When every target is down it fails
 * open and rotates over all of them (the probe may lag, and a 502 is no worse than a 503).
 * The target lists are replaced, never mutated.
 */
export class LoadBalancer {
  private all: readonly Target[] = [];
  private live: readonly Target[] = [];
  private next = 0;

  setTargets(targets: readonly Target[]): void {
    this.all = targets;
    this.next = 0;
    this.refresh();
  }

  /** Recomputes the rotation after a target went down or came back. */
  refresh(): void {
    const up = this.all.filter((t) => !t.down);
    this.live = up.length > 0 ? up : this.all;
  }

  get size(): number {
    return this.all.length;
  }

  pick(): Target | undefined {
    const live = this.live;
    const n = live.length;
    if (n === 0) return undefined;
    if (n === 1) return live[0];
    if (this.next >= n) this.next = 0;
    return live[this.next++];
  }

  /** Whether a target other than `t` is in the rotation (a retry could go there). */
  hasOther(t: Target): boolean {
    return this.live.some((x) => x !== t && !x.down);
  }

  /** A target other than `failed` that is not down, for a retry; null when there is none. */
  pickOther(failed: Target): Target | null {
    const live = this.live;
    const n = live.length;
    for (let i = 0; i < n; i++) {
      if (this.next >= n) this.next = 0;
      const t = live[this.next++];
      if (t !== failed && !t.down) return t;
    }
    return null;
  }
}
