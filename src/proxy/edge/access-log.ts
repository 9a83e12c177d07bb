import type { AccessEntry } from './request-figures.js';

/** How long after its last read a reader counts as following (its missed entries are "dropped"). */
const READER_ACTIVE_MS = 10_000;
/** Paths up to this length are kept as bytes in the ring's slab; a longer one keeps its string. */
const PATH_BYTES = 64;

/** One entry of the ring, made once and overwritten in place. */
interface Slot {
  time: number;
  app: string;
  method: string;
  /** the path's length in the slab, or -1: `longPath` holds it */
  pathLength: number;
  longPath: string;
  status: number;
  durationMs: number;
  bytes: number;
  client: string;
  /** a number: the worker's own id `prefix + n.toString(36)`; a string: the client's */
  id: number | string;
}

/**
 * One app's access log in one proxy worker: a ring of the last `size` entries in memory, nothing
 * written to disk on the request path. When the ring wraps over entries a following reader
 * (`logs APP --proxy -t`) has not fetched yet, they are lost and counted in `dropped`.
 *
 * The common request leaves no JS object here: the entries are made once and overwritten, a path
 * of up to PATH_BYTES is copied into a byte slab (a request line's path is latin1: one byte a
 * character), and the worker's own request id is kept as its counter (a client's id, a longer or
 * wider path stay strings). Kept strings outlive the young generation: every scavenge copied and
 * promoted them (measured: 1.18 against 0.93 ms a scavenge, one every 500 or so requests), and
 * old space filled with them.
 */
export class AccessLog {
  private readonly ring: Array<Slot | undefined>;
  private readonly paths: Buffer;
  private next = 0;
  private count = 0;
  /** time of the newest entry a reader fetched, and when it did */
  private readUpTo = 0;
  private readAt = 0;
  dropped = 0;

  /** `idPrefix`: the prefix of the worker's own request ids (those written as a number) */
  constructor(
    readonly size: number,
    private readonly idPrefix = '',
  ) {
    this.ring = new Array<Slot | undefined>(size);
    this.paths = Buffer.alloc(size * PATH_BYTES);
  }

  push(e: AccessEntry): void {
    this.write(e.time, e.app, e.method, e.path, e.status, e.durationMs, e.bytes, e.client, e.requestId);
  }

  /** Records one request in place; `id`: the client's request id, or the number of the worker's own. */
  write(
    time: number,
    app: string,
    method: string,
    path: string,
    status: number,
    durationMs: number,
    bytes: number,
    client: string,
    id: number | string,
  ): void {
    const i = this.next;
    let e = this.ring[i];
    if (e === undefined) {
      e = { time: 0, app, method, pathLength: 0, longPath: '', status, durationMs: 0, bytes, client, id };
      this.ring[i] = e;
    } else if (e.time > this.readUpTo && time - this.readAt < READER_ACTIVE_MS) this.dropped++;
    e.time = time;
    e.app = app;
    e.method = method;
    e.pathLength = this.copyPath(i * PATH_BYTES, path);
    e.longPath = e.pathLength < 0 ? path : '';
    e.status = status;
    e.durationMs = durationMs;
    e.bytes = bytes;
    e.client = client;
    e.id = id;
    this.next = (i + 1) % this.size;
    if (this.count < this.size) this.count++;
  }

  /** Copies `path` into the slab at `at`: its length, or -1 when it is too long or not latin1. */
  private copyPath(at: number, path: string): number {
    const n = path.length;
    if (n > PATH_BYTES) return -1;
    const slab = this.paths;
    for (let k = 0; k < n; k++) {
      const c = path.charCodeAt(k);
      if (c > 255) return -1;
      slab[at + k] = c;
    }
    return n;
  }

  /** Entries that ended after `since` (epoch ms), oldest first; the last `limit` of them. */
  since(since: number, limit: number): AccessEntry[] {
    const out: AccessEntry[] = [];
    const first = (this.next - this.count + this.size) % this.size;
    for (let k = 0; k < this.count; k++) {
      const i = (first + k) % this.size;
      const e = this.ring[i]!;
      if (e.time > since) out.push(this.entry(i, e));
    }
    const picked = out.length > limit ? out.slice(out.length - limit) : out;
    if (picked.length > 0) this.readUpTo = Math.max(this.readUpTo, picked[picked.length - 1].time);
    this.readAt = Date.now();
    return picked;
  }

  private entry(i: number, e: Slot): AccessEntry {
    const at = i * PATH_BYTES;
    return {
      time: e.time,
      app: e.app,
      method: e.method,
      path: e.pathLength < 0 ? e.longPath : this.paths.toString('latin1', at, at + e.pathLength),
      status: e.status,
      durationMs: e.durationMs,
      bytes: e.bytes,
      client: e.client,
      requestId: typeof e.id === 'number' ? this.idPrefix + e.id.toString(36) : e.id,
    };
  }
}
