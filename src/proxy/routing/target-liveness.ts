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

/**
 * Watches a request that could still go to another target (a GET or HEAD not yet retried) while
 * it waits for its response: every `stallMs` without one, checks that the target still accepts a
 * TCP connection. A host that vanished (a Swarm node powered off or cut from the network) neither
 * answers nor resets the connections it had, so a request sent on a kept-alive connection to it
 * would wait for the 60 s response timeout; this finds it in about two seconds, and `onDead` moves
 * the request. A slow target that still accepts connections is left alone. Returns the function
 * that stops watching (on the response, or when the exchange ends).
 */
export function watchStall(
  target: Target,
  onDead: () => void,
  opts: { stallMs?: number; timeoutMs?: number; reuseMs?: number; probe?: Probe } = {},
): () => void {
  const stallMs = opts.stallMs ?? STALL_MS;
  let stopped = false;
  let timer: NodeJS.Timeout | null = null;
  const arm = () => {
    timer = setTimeout(() => {
      timer = null;
      const check = alive(target, opts.probe ?? acceptsConnections, opts.timeoutMs ?? LIVENESS_TIMEOUT_MS, opts.reuseMs ?? stallMs / 2);
      void check.then((ok) => {
        if (stopped) return;
        if (ok) arm();
        else onDead();
      });
    }, stallMs);
  };
  arm();
  return () => {
    stopped = true;
    if (timer !== null) clearTimeout(timer);
  };
}
