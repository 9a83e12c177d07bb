/**
 * Counts attempts per key (an SSH key name, a client address) in fixed windows: `allow(key)` is
 * false once `max` attempts fell in the current window. Bounded: past `maxKeys` entries the
 * expired ones are dropped, and if all are live the oldest go (a flood of addresses cannot grow
 * the map without end).
 */
export class RateLimiter {
  private readonly hits = new Map<string, { start: number; count: number }>();

  constructor(
    private readonly max: number,
    private readonly windowMs: number,
    private readonly maxKeys = 10_000,
    private readonly now: () => number = Date.now,
  ) {}

  allow(key: string): boolean {
    const t = this.now();
    let e = this.hits.get(key);
    if (e === undefined || t - e.start >= this.windowMs) {
      this.hits.delete(key);
      if (this.hits.size >= this.maxKeys) this.evict(t);
      e = { start: t, count: 0 };
      this.hits.set(key, e);
    }
    e.count++;
    return e.count <= this.max;
  }

  /** Whether `key` used up its window's attempts (without counting one). */
  blocked(key: string): boolean {
    const e = this.hits.get(key);
    return e !== undefined && this.now() - e.start < this.windowMs && e.count >= this.max;
  }

  size(): number {
    return this.hits.size;
  }

  private evict(t: number): void {
    for (const [k, e] of this.hits) if (t - e.start >= this.windowMs) this.hits.delete(k);
    // a map in insertion order: the first keys are the oldest windows
    for (const k of this.hits.keys()) {
      if (this.hits.size < this.maxKeys) break;
      this.hits.delete(k);
    }
  }
}
