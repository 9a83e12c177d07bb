import type { AccessEntry } from './request-figures.js';

/** How long after its last read a reader counts as following (its missed entries are "dropped"). */
const READER_ACTIVE_MS = 10_000;

/**
 * One app's access log in one proxy worker: a ring of the last `size` entries in memory, nothing
 * written to disk on the request path. When the ring wraps over entries a following reader
 * (`logs APP --proxy -t`) has not fetched yet, they are lost and counted in `dropped`.
 */
export class AccessLog {
  private readonly ring: Array<AccessEntry | undefined>;
  private next = 0;
  private count = 0;
  /** time of the newest entry a reader fetched, and when it did */
  private readUpTo = 0;
  private readAt = 0;
  dropped = 0;

  constructor(readonly size: number) {
    this.ring = new Array<AccessEntry | undefined>(size);
  }

  push(e: AccessEntry): void {
    this.write(e.time, e.app, e.method, e.path, e.status, e.durationMs, e.bytes, e.client, e.requestId);
  }

  /**
   * Records one request in place: the ring's entry objects are made once and overwritten, so the
   * request path allocates no entry (one kept for 1,000 requests would outlive the young
   * generation and be copied and promoted on the way).
   */
  write(
    time: number,
    app: string,
    method: string,
    path: string,
    status: number,
    durationMs: number,
    bytes: number,
    client: string,
    requestId: string,
  ): void {
    const old = this.ring[this.next];
    if (old !== undefined && old.time > this.readUpTo && time - this.readAt < READER_ACTIVE_MS) this.dropped++;
    if (old === undefined) this.ring[this.next] = { time, app, method, path, status, durationMs, bytes, client, requestId };
    else {
      old.time = time;
      old.app = app;
      old.method = method;
      old.path = path;
      old.status = status;
      old.durationMs = durationMs;
      old.bytes = bytes;
      old.client = client;
      old.requestId = requestId;
    }
    this.next = (this.next + 1) % this.size;
    if (this.count < this.size) this.count++;
  }

  /** Entries that ended after `since` (epoch ms), oldest first; the last `limit` of them. */
  since(since: number, limit: number): AccessEntry[] {
    const out: AccessEntry[] = [];
    const first = (this.next - this.count + this.size) % this.size;
    for (let i = 0; i < this.count; i++) {
      const e = this.ring[(first + i) % this.size]!;
      // a copy: the ring's objects are overwritten by later requests
      if (e.time > since) out.push({ ...e });
    }
    const picked = out.length > limit ? out.slice(out.length - limit) : out;
    if (picked.length > 0) this.readUpTo = Math.max(this.readUpTo, picked[picked.length - 1].time);
    this.readAt = Date.now();
    return picked;
  }
}
