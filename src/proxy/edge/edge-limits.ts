import type http from 'node:http';
import http2 from 'node:http2';
import type net from 'node:net';
import type { Socket } from 'node:net';
import { plainAddress, type TrustedProxies } from '../../util/trusted-proxies.js';

/** What a client connection may cost the proxy; each has a server flag (see README "Proxy limits"). */
export interface EdgeLimits {
  /** max time without a byte from the client while it sends headers or body, or reads the response */
  idleTimeoutMs: number;
  /** max time from the first byte of a request to the end of its headers */
  headerTimeoutMs: number;
  /** open client connections per worker process at most (over it: closed at once) */
  maxConnections: number;
  /** open client connections per client address and worker process at most; trusted proxies are exempt */
  maxConnectionsPerIp: number;
  /** keep-alive connections idle between requests are closed after this */
  keepAliveTimeoutMs: number;
}

export const EDGE_DEFAULTS: EdgeLimits = {
  idleTimeoutMs: 60_000,
  headerTimeoutMs: 30_000,
  maxConnections: 10_000,
  maxConnectionsPerIp: 256,
  keepAliveTimeoutMs: 75_000,
};

/** Limits shared by `workers` processes (round-robin): each gets its part of the connection caps. */
export function perWorker(limits: EdgeLimits, workers: number): EdgeLimits {
  const n = Math.max(1, workers);
  return {
    ...limits,
    maxConnections: Math.max(1, Math.ceil(limits.maxConnections / n)),
    maxConnectionsPerIp: Math.max(1, Math.ceil(limits.maxConnectionsPerIp / n)),
  };
}

/**
 * Node http(s) server options enforcing the header bound: Node checks the header time of every
 * connection each `connectionsCheckingInterval`, answers 408 and closes.
 */
export function serverOptions(limits: EdgeLimits): http.ServerOptions {
  return {
    headersTimeout: limits.headerTimeoutMs,
    requestTimeout: 0,
    keepAliveTimeout: limits.keepAliveTimeoutMs,
    connectionsCheckingInterval: Math.max(50, Math.min(1000, Math.floor(limits.headerTimeoutMs / 4))),
    // client requests are parsed strictly: CL+TE together, duplicate Content-Length, bare LF are refused
    insecureHTTPParser: false,
  };
}

/**
 * A client connection was idle for idleTimeoutMs. It is closed, unless its request is complete and
 * waits for the upstream's answer (or a paused service): that wait is bounded by the upstream timeout.
 */
function onIdle(socket: Socket): void {
  const res = (socket as Socket & { _httpMessage?: http.ServerResponse | null })._httpMessage;
  if (res && !res.headersSent && res.req?.complete) return;
  socket.destroy();
}

/**
 * Applies the idle timeout and the connection caps to a listening server (HTTP or HTTPS; the
 * count is taken on the TCP connection, before any TLS). Over a cap the connection is closed at once.
 */
export class ConnectionLimiter {
  private readonly limits: EdgeLimits;
  private readonly trusted: TrustedProxies;
  private readonly perIp = new Map<string, number>();
  private open = 0;
  /** connections closed for being over a cap, since start */
  refused = 0;

  constructor(limits: EdgeLimits, trusted: TrustedProxies) {
    this.limits = limits;
    this.trusted = trusted;
  }

  get connections(): number {
    return this.open;
  }

  /** Plain HTTP: the caps on its connections, and the timeouts. */
  attach(server: http.Server): void {
    this.attachTimeouts(server);
    this.countOn(server);
  }

  /** The idle, header and keep-alive timeouts of an HTTP/1.1 server (no caps: counted where the connection arrives). */
  attachTimeouts(server: http.Server): void {
    server.timeout = this.limits.idleTimeoutMs;
    server.headersTimeout = this.limits.headerTimeoutMs;
    server.requestTimeout = 0;
    server.keepAliveTimeout = this.limits.keepAliveTimeoutMs;
    server.on('timeout', onIdle);
  }

  /**
   * The same bounds for HTTP/2, where Node's own server timeout does not fit (it cuts a stream
   * that waits for its upstream, and is not armed again): a stream with no byte either way for
   * idleTimeoutMs is cancelled, unless its request is complete and waits for the upstream's
   * answer (bounded by the upstream timeout, as for HTTP/1.1); a session with no open stream for
   * keepAliveTimeoutMs (a client that never sends a request included) gets GOAWAY and closes.
   */
  attachH2Timeouts(server: http2.Http2Server): void {
    const { idleTimeoutMs, keepAliveTimeoutMs } = this.limits;
    server.on('session', (session: http2.ServerHttp2Session) => {
      let open = 0;
      let idle: NodeJS.Timeout | undefined;
      const arm = () => {
        idle = setTimeout(() => session.close(), keepAliveTimeoutMs);
      };
      arm();
      session.on('stream', (stream: http2.ServerHttp2Stream) => {
        open++;
        clearTimeout(idle);
        stream.setTimeout(idleTimeoutMs, () => {
          // the client has sent its whole request (END_STREAM) and no answer has started: the upstream's wait
          if (!stream.headersSent && stream.state.remoteClose === 1) return;
          stream.close(http2.constants.NGHTTP2_CANCEL);
        });
        stream.once('close', () => {
          if (--open === 0 && !session.closed && !session.destroyed) arm();
        });
      });
      session.once('close', () => clearTimeout(idle));
    });
  }

  /**
   * Counts the TCP connections `server` gets against the caps, before anything is read: on the
   * HTTPS listener that is before the TLS handshake, and covers HTTP/2 as well as HTTP/1.1.
   */
  countOn(server: net.Server): void {
    server.prependListener('connection', (socket: Socket) => this.admit(socket));
  }

  private admit(socket: Socket): void {
    const ip = plainAddress(socket.remoteAddress);
    const count = this.perIp.get(ip) ?? 0;
    if (this.open >= this.limits.maxConnections || (count >= this.limits.maxConnectionsPerIp && !this.trusted.has(ip))) {
      this.refused++;
      socket.destroy();
      return;
    }
    this.open++;
    this.perIp.set(ip, count + 1);
    // one listener per limiter, no closure or once-wrapper per connection (about 250 bytes of heap
    // for each idle keep-alive connection): the address is read again at close, from the peer
    // name the socket cached above
    socket.on('close', this.onClose);
  }

  private readonly onClose = ((limiter: ConnectionLimiter) =>
    function onCountedClose(this: Socket): void {
      limiter.release(plainAddress(this.remoteAddress));
    })(this);

  /** A counted connection closed. */
  private release(ip: string): void {
    this.open--;
    const n = (this.perIp.get(ip) ?? 1) - 1;
    if (n <= 0) this.perIp.delete(ip);
    else this.perIp.set(ip, n);
  }
}
