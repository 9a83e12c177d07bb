import net from 'node:net';
import type { Target } from './target.js';

/** How long a retryable request waits for its response before the proxy checks that its target is still there. */
export const STALL_MS = 1000;
/** How long that check (a TCP connect) may take before the target counts as gone. */
export const LIVENESS_TIMEOUT_MS = 1000;

/** Whether `host:port` accepts a TCP connection within `timeoutMs` (refused, unreachable or silent: false). */
export function acceptsConnections(host: string, port: number, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    const done = (ok: boolean) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(ok);
    };
    const timer = setTimeout(() => done(false), timeoutMs);
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

type Probe = (host: string, port: number, timeoutMs: number) => Promise<boolean>;

/** The last liveness check per target: one runs at a time, and its answer is reused for `reuseMs` after it by every request that asks. */
const checks = new WeakMap<Target, { done: number | null; ok: Promise<boolean> }>();

function alive(target: Target, probe: Probe, timeoutMs: number, reuseMs: number): Promise<boolean> {
  const last = checks.get(target);
  if (last && (last.done === null || Date.now() - last.done < reuseMs)) return last.ok;
  const check: { done: number | null; ok: Promise<boolean> } = { done: null, ok: probe(target.host, target.port, timeoutMs) };
  void check.ok.finally(() => {
    check.done = Date.now();
  });
  checks.set(target, check);
  return check.ok;
}

/** A request the watch follows while it waits for its response (an UpstreamExchange). */
export interface StallWatched {
  /** whether it waits for a response and could still move (a GET or HEAD not yet retried) */
  watching: boolean;
  /** when it started waiting (Date.now()) */
  watchedSince: number;
  /** the target it waits on */
  readonly watchTarget: Target | null;
  /** whether another target could take it (else waiting is better than failing early) */
  canMove(): boolean;
  /** its target stopped accepting connections: move it */
  targetGone(): void;
}

export interface StallWatchOptions {
  stallMs?: number;
  timeoutMs?: number;
  /** how long one check's answer is reused by every request on that target */
  reuseMs?: number;
  probe?: Probe;
}

/**
 * Looks at the requests that could still go to another target (a GET or HEAD not yet retried)
 * while they wait for their response: one that has waited `stallMs` gets its target checked (does
 * it still accept a TCP connection?). A host that vanished (a Swarm node powered off or cut from
 * the network) neither answers nor resets the connections it had, so a request sent on a
 * kept-alive connection to it would wait for the 60 s idle timeout; this finds it in about two
 * seconds and the request moves. A slow target that still accepts connections is left alone.
 * Nothing is registered per request: the caller (upstream-pools.ts, on its idle sweep) hands the
 * requests on its busy connections to `sweep`. Measured: a timer per request, and even a Set
 * add and delete per request, cost the proxy 10-20% of its throughput (the Set's churn tripled GC).
 */
export class StallWatch {
  private readonly checking = new Set<StallWatched>();
  private readonly stallMs: number;
  private readonly timeoutMs: number;
  private readonly reuseMs: number;
  private readonly probe: Probe;

  constructor(opts: StallWatchOptions = {}) {
    this.stallMs = opts.stallMs ?? STALL_MS;
    this.timeoutMs = opts.timeoutMs ?? LIVENESS_TIMEOUT_MS;
    this.reuseMs = opts.reuseMs ?? this.stallMs / 2;
    this.probe = opts.probe ?? acceptsConnections;
  }

  /** Checks the targets of the `waiting` requests that have waited long enough. */
  sweep(now: number, waiting: Iterable<StallWatched>): void {
    for (const w of waiting) {
      if (!w.watching || now - w.watchedSince < this.stallMs || this.checking.has(w)) continue;
      const t = w.watchTarget;
      if (t === null || !w.canMove()) continue;
      this.checking.add(w);
      void alive(t, this.probe, this.timeoutMs, this.reuseMs).then((ok) => {
        this.checking.delete(w);
        if (!w.watching) return;
        if (ok) {
          w.watchedSince = Date.now();
          return;
        }
        w.watching = false;
        w.targetGone();
      });
    }
  }
}
