/**
 * The Docker events that paas's own calls cause, so that whoever reacts to events (the
 * convergence watcher) can tell them from what happened to a container behind paas's back.
 *
 * - `starting(id)`: the next `start` of that container is ours; a later `die` (a crash) or
 *   `start` (a restart by the engine) is not.
 * - `claim(id)`: paas is stopping or removing that container, or runs it as a one-off task:
 *   every event of it until its `destroy` is ours.
 *
 * Entries are forgotten at the container's `destroy`, when a stop fails to remove it (`forget`),
 * or after `ttlMs`, so the map cannot grow without bound. Ids may be given abbreviated; events
 * carry the full id.
 */
export class OwnContainerActions {
  private readonly starts = new Map<string, number>();
  private readonly claims = new Map<string, number>();

  constructor(
    private readonly ttlMs = 15 * 60_000,
    private readonly now: () => number = Date.now,
  ) {}

  starting(id: string): void {
    this.sweep();
    this.starts.set(id, this.now());
  }

  claim(id: string): void {
    this.sweep();
    this.claims.set(id, this.now());
  }

  /** Its later events are not paas's doing (a stop that failed to remove it). */
  forget(id: string): void {
    for (const m of [this.starts, this.claims]) {
      const k = keyOf(m, id);
      if (k !== undefined) m.delete(k);
    }
  }

  /** Whether the event was caused by paas itself; a matching `start` is used up. */
  isOwn(id: string, action: string): boolean {
    const claimed = keyOf(this.claims, id);
    if (claimed !== undefined) {
      if (action === 'destroy') this.claims.delete(claimed);
      return true;
    }
    const started = keyOf(this.starts, id);
    if (started !== undefined && action === 'start') {
      this.starts.delete(started);
      return true;
    }
    return false;
  }

  /** entries still remembered (tests) */
  get size(): number {
    return this.starts.size + this.claims.size;
  }

  private sweep(): void {
    const oldest = this.now() - this.ttlMs;
    for (const m of [this.starts, this.claims]) for (const [id, at] of m) if (at < oldest) m.delete(id);
  }
}

function keyOf(m: Map<string, number>, id: string): string | undefined {
  if (m.has(id)) return id;
  for (const k of m.keys()) if (id.startsWith(k) || k.startsWith(id)) return k;
  return undefined;
}
