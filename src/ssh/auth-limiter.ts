/**
 * Counts failed authentications per source address in a sliding window; an address past the
 * limit is refused until its oldest failure ages out. The table holds at most `maxAddresses`
 * addresses (the oldest entries go first), so a flood from many addresses cannot grow it.
 */
export class AuthLimiter {
  private readonly failures = new Map<string, number[]>();

  constructor(
    private readonly maxFailures = 20,
    private readonly windowMs = 60_000,
    private readonly maxAddresses = 10_000,
  ) {}

  get size(): number {
    return this.failures.size;
  }

  blocked(address: string, now = Date.now()): boolean {
    return this.recent(address, now).length >= this.maxFailures;
  }

  fail(address: string, now = Date.now()): void {
    const list = this.recent(address, now);
    list.push(now);
    this.failures.delete(address); // re-inserted last: the map's order is the order of last failure
    this.failures.set(address, list);
    for (const oldest of this.failures.keys()) {
      if (this.failures.size <= this.maxAddresses) break;
      this.failures.delete(oldest);
    }
  }

  private recent(address: string, now: number): number[] {
    const list = (this.failures.get(address) ?? []).filter((t) => now - t < this.windowMs);
    if (list.length) this.failures.set(address, list);
    else this.failures.delete(address);
    return list;
  }
}
