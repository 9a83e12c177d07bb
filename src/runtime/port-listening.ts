import net from 'node:net';
import { sleep } from '../util/sleep.js';

export type ListeningResult = 'listening' | 'refused' | 'deadline' | 'aborted';

export interface ListeningOptions {
  /** give up ('deadline') at this time (ms since epoch) */
  deadline: number;
  /** 'refused' once every connect was refused for this long */
  refusedForMs: number;
  signal?: AbortSignal;
}

/**
 * Waits until something accepts TCP connections on host:port: the moment a container can take
 * traffic. Polls every 20 ms for the first 2 s (a web process is usually up within that), then
 * every 200 ms. Reports 'refused' when the port refused every attempt for `refusedForMs` (nothing
 * listens there), and 'deadline' when attempts kept failing otherwise (timeouts, no route).
 */
export async function waitListening(host: string, port: number, opts: ListeningOptions): Promise<ListeningResult> {
  const started = Date.now();
  let refusedSince: number | null = null;
  for (;;) {
    if (opts.signal?.aborted) return 'aborted';
    const attempt = Date.now();
    const r = await connectOnce(host, port, Math.max(50, Math.min(1000, opts.deadline - attempt)));
    if (r === 'ok') return 'listening';
    if (r === 'refused') {
      refusedSince ??= attempt;
      if (Date.now() - refusedSince >= opts.refusedForMs) return 'refused';
    } else refusedSince = null;
    if (Date.now() >= opts.deadline) return 'deadline';
    const interval = Date.now() - started < 2000 ? 20 : 200;
    await sleep(Math.max(0, interval - (Date.now() - attempt)), opts.signal);
  }
}

function connectOnce(host: string, port: number, timeoutMs: number): Promise<'ok' | 'refused' | 'failed'> {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    const done = (r: 'ok' | 'refused' | 'failed') => {
      clearTimeout(timer);
      socket.destroy();
      resolve(r);
    };
    const timer = setTimeout(() => done('failed'), timeoutMs);
    socket.once('connect', () => done('ok'));
    socket.once('error', (err: NodeJS.ErrnoException) => done(err.code === 'ECONNREFUSED' ? 'refused' : 'failed'));
  });
}
