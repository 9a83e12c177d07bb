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
  /** when it started waiting (Date.now()), set by the watch */
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
  /** how often waiting requests are looked at */
  periodMs?: number;
  probe?: Probe;
}

/**
 * Follows the requests that could still go to another target (a GET or HEAD not yet retried)
 * while they wait for their response: one that has waited `stallMs` gets its target checked (does
 * it still accept a TCP connection?). A host that vanished (a Swarm node powered off or cut from
 * the network) neither answers nor resets the connections it had, so a request sent on a
 * kept-alive connection to it would wait for the 60 s idle timeout; this finds it in about two
 * seconds and the request moves. A slow target that still accepts connections is left alone.
 * The request path pays a Set add and delete; one interval per worker does the looking (no timer
 * per request: see upstream-agent.ts for why that matters).
 */
export class StallWatch {
  private readonly waiting = new Set<StallWatched>();
  private readonly checking = new Set<StallWatched>();
  private timer: NodeJS.Timeout | null = null;
  private readonly stallMs: number;
  private readonly timeoutMs: number;
  private readonly reuseMs: number;
  private readonly periodMs: number;
  private readonly probe: Probe;

  constructor(opts: StallWatchOptions = {}) {
    this.stallMs = opts.stallMs ?? STALL_MS;
    this.timeoutMs = opts.timeoutMs ?? LIVENESS_TIMEOUT_MS;
    this.reuseMs = opts.reuseMs ?? this.stallMs / 2;
    this.periodMs = opts.periodMs ?? STALL_MS / 4;
    this.probe = opts.probe ?? acceptsConnections;
  }

  add(w: StallWatched): void {
    w.watchedSince = Date.now();
    this.waiting.add(w);
    this.timer ??= setInterval(() => this.sweep(Date.now()), this.periodMs).unref();
  }

  delete(w: StallWatched): void {
    this.waiting.delete(w);
  }

  /** Checks the targets of the requests that have waited long enough; exposed for tests. */
  sweep(now: number): void {
    for (const w of this.waiting) {
      const t = w.watchTarget;
      if (now - w.watchedSince < this.stallMs || t === null || this.checking.has(w) || !w.canMove()) continue;
      this.checking.add(w);
      void alive(t, this.probe, this.timeoutMs, this.reuseMs).then((ok) => {
        this.checking.delete(w);
        if (!this.waiting.has(w)) return;
        if (ok) {
          w.watchedSince = Date.now();
          return;
        }
        this.waiting.delete(w);
        w.targetGone();
      });
    }
  }

  close(): void {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
    this.waiting.clear();
  }
}
