import http from 'node:http';
import net from 'node:net';
import { rawHeader } from './raw-headers.js';

/** When a kept-alive connection's idle time runs out (ms on Date.now()'s clock), set when it is freed. */
const IDLE_UNTIL = Symbol('idleUntil');
type PooledSocket = net.Socket & { [IDLE_UNTIL]?: number; _httpMessage?: { res?: http.IncomingMessage } | null };

/** Node's margin below an upstream's announced keep-alive timeout (HTTP_AGENT_KEEP_ALIVE_TIMEOUT_BUFFER). */
const HINT_MARGIN_MS = 1000;
const HINT = /^timeout=(\d+)/;
/** TCP keep-alive probes' initial delay on pooled connections (Node's agent default) */
const KEEPALIVE_PROBE_MS = 1000;

/**
 * A keep-alive agent to one upstream origin that arms no timer per request. Node's agent with a
 * `timeout`, and a request with one, re-arm the socket's timer three times per request (request
 * socket, response end, back in the pool): measured, that was most of what paas's proxy spent per
 * request beyond a bare Node proxy. Here each connection gets its idle timeout once, when it is
 * made (`activeIdleMs`: no byte either way for that long fails the request running on it, as the
 * request timeout did), and idle pooled connections are closed by a sweep instead: after
 * `pooledIdleMs`, or 1 s before the upstream's own announced `Keep-Alive: timeout=N`, as Node's
 * agent does, give or take the sweep's period.
 */
export class UpstreamAgent extends http.Agent {
  private readonly pooledIdleMs: number;
  private readonly activeIdleMs: number;

  constructor(opts: { connections: number; pooledIdleMs: number; activeIdleMs: number }) {
    super({ keepAlive: true, maxSockets: opts.connections, maxFreeSockets: opts.connections, scheduling: 'lifo' });
    this.pooledIdleMs = opts.pooledIdleMs;
    this.activeIdleMs = opts.activeIdleMs;
  }

  override createConnection(options: net.NetConnectOpts): net.Socket {
    const socket = net.createConnection(options);
    socket.setTimeout(this.activeIdleMs);
    socket.on('timeout', () => socket.destroy(Object.assign(new Error('upstream timed out'), { code: 'PAAS_TIMEOUT' })));
    return socket;
  }

  /** Back in the pool: kept (with the time it may idle until) unless the upstream allows too little. */
  override keepSocketAlive(socket: PooledSocket): boolean {
    socket.setKeepAlive(true, KEEPALIVE_PROBE_MS);
    socket.unref();
    let idle = this.pooledIdleMs;
    // off the raw lines: nothing else on the proxy's path reads `res.headers`, which Node would build for this one value
    const hint = rawHeader(socket._httpMessage?.res?.rawHeaders, 'keep-alive');
    if (typeof hint === 'string') {
      const secs = HINT.exec(hint)?.[1];
      if (secs !== undefined) {
        const ms = Number(secs) * 1000 - HINT_MARGIN_MS;
        if (ms <= 0) return false;
        if (ms < idle) idle = ms;
      }
    }
    socket[IDLE_UNTIL] = Date.now() + idle;
    return true;
  }

  /** Closes the pooled connections whose idle time ran out; returns how many are left in the pool. */
  sweep(now: number): number {
    let left = 0;
    for (const list of Object.values(this.freeSockets)) {
      for (const s of (list ?? []) as PooledSocket[]) {
        if ((s[IDLE_UNTIL] ?? 0) <= now) s.destroy();
        else left++;
      }
    }
    return left;
  }
}
