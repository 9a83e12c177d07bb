import type http from 'node:http';
import { performance } from 'node:perf_hooks';
import type { TLSSocket } from 'node:tls';
import { plainAddress, type TrustedProxies } from '../../util/trusted-proxies.js';
import { AccessLog } from './access-log.js';
import {
  type AppFigures,
  DURATION_BUCKETS,
  emptyAppFigures,
  emptyFigures,
  type ProxyFigures,
  STATUS_CLASSES,
  TLS_PROTOCOLS,
  UPSTREAM_ERRORS,
} from './request-figures.js';

/** One app's figures in this worker, resolved once per service and kept on it. */
interface AppSlot {
  app: string;
  f: AppFigures;
  log: AccessLog;
}

const kSlot = Symbol('paasMetricsSlot');
const kStart = Symbol('paasMetricsStart');
const kId = Symbol('paasMetricsId');
const kRead = Symbol('paasMetricsRead');
const kWritten = Symbol('paasMetricsWritten');

type Tracked = http.ServerResponse & { [kSlot]?: AppSlot; [kStart]?: number; [kId]?: string };
type MarkedSocket = { bytesRead: number; bytesWritten: number; [kRead]?: number; [kWritten]?: number };
type WithSlot = { readonly name: string; [kSlot]?: AppSlot };

const CLASSES = STATUS_CLASSES.length;
const BUCKETS: readonly number[] = DURATION_BUCKETS;

/** The longest path an access log entry keeps (a ring of long URLs must stay small). */
const MAX_LOGGED_PATH = 2048;

function pathOf(url: string | undefined): string {
  if (url === undefined) return '';
  return url.length > MAX_LOGGED_PATH ? `${url.slice(0, MAX_LOGGED_PATH)}…` : url;
}

function methodIndex(method: string | undefined): number {
  switch (method) {
    case 'GET':
      return 0;
    case 'HEAD':
      return 1;
    case 'POST':
      return 2;
    case 'PUT':
      return 3;
    case 'PATCH':
      return 4;
    case 'DELETE':
      return 5;
    case 'OPTIONS':
      return 6;
    default:
      return 7;
  }
}

/** The `reason` of an upstream failure from its error code. */
export function upstreamReason(code: string | undefined): number {
  if (code === 'ECONNREFUSED' || code === 'EHOSTUNREACH' || code === 'ENETUNREACH') return 0;
  if (code === 'PAAS_TIMEOUT' || code === 'PAAS_CONNECT_TIMEOUT' || code === 'PAAS_QUEUE_TIMEOUT') return 1;
  if (code === 'ECONNRESET' || code === 'EPIPE') return 2;
  return UPSTREAM_ERRORS.length - 1;
}

/**
 * What one proxy worker counts per app on the request path: requests by method and status class,
 * a duration histogram, in-flight requests, bytes in and out (from the client socket's counters,
 * so nothing is counted per chunk), upstream failures by reason; per worker: TLS handshakes by
 * protocol; and a bounded access log per app (access-log.ts). The request path pays one call at
 * the start (`begin`, a few properties on the response and one close listener) and the work at
 * the response's close; label children are resolved once per service and kept on it. The
 * primary sums the workers' `snapshot()`s (request-figures.ts).
 */
export class RequestMetrics {
  private readonly slots = new Map<string, AppSlot>();
  private readonly tls = new Array<number>(TLS_PROTOCOLS.length).fill(0);
  private readonly trusted: TrustedProxies;
  private readonly logSize: number;
  /** open client connections, read at snapshot time */
  connections: () => number = () => 0;
  private readonly onClose: (this: Tracked) => void;

  constructor(trusted: TrustedProxies, logSize = 1000) {
    this.trusted = trusted;
    this.logSize = logSize;
    const self = this;
    this.onClose = function (this: Tracked) {
      self.end(this);
    };
  }

  private slot(service: WithSlot): AppSlot {
    let s = service[kSlot];
    if (s !== undefined) return s;
    s = this.slots.get(service.name);
    if (s === undefined) {
      s = { app: service.name, f: emptyAppFigures(), log: new AccessLog(this.logSize) };
      this.slots.set(service.name, s);
    }
    service[kSlot] = s;
    return s;
  }

  /** A request routed to `service` starts: counted in flight until its response closes. */
  begin(service: WithSlot, res: http.ServerResponse, requestId: string): void {
    const s = this.slot(service);
    s.f.inFlight++;
    const t = res as Tracked;
    t[kSlot] = s;
    t[kStart] = performance.now();
    t[kId] = requestId;
    // `on`, not `once` (no wrapper per request): a response closes once, and end() clears the slot
    res.on('close', this.onClose);
  }

  /** An upstream exchange for `service` failed before answering (refused, timed out, reset). */
  upstreamFailed(service: WithSlot, code: string | undefined): void {
    this.slot(service).f.upstreamErrors[upstreamReason(code)]++;
  }

  /** A TLS connection finished its handshake (the HTTPS server's `secureConnection`). */
  handshake(socket: TLSSocket): void {
    this.tls[socket.alpnProtocol === 'h2' ? 1 : 0]++;
  }

  private end(res: Tracked): void {
    const s = res[kSlot];
    if (s === undefined) return;
    res[kSlot] = undefined;
    const f = s.f;
    f.inFlight--;
    const seconds = (performance.now() - (res[kStart] ?? 0)) / 1000;
    // a client that left before any answer: nginx's 499
    const status = res.headersSent ? res.statusCode : 499;
    const req = res.req as http.IncomingMessage | undefined;
    f.requests[methodIndex(req?.method) * CLASSES + Math.min(Math.max(Math.floor(status / 100), 1), 5) - 1]++;
    let b = 0;
    while (b < BUCKETS.length && seconds > BUCKETS[b]) b++;
    f.buckets[b]++;
    f.durationSum += seconds;
    let sent = 0;
    if (req !== undefined && req.httpVersionMajor === 1) {
      // bytes on the wire since the previous request on this connection ended (headers included)
      const sock = req.socket as unknown as MarkedSocket;
      const read = sock.bytesRead;
      const written = sock.bytesWritten;
      f.requestBytes += read - (sock[kRead] ?? 0);
      sent = written - (sock[kWritten] ?? 0);
      f.responseBytes += sent;
      sock[kRead] = read;
      sock[kWritten] = written;
    }
    if (req !== undefined) {
      const peer = plainAddress(req.socket?.remoteAddress);
      s.log.write(
        Date.now(),
        s.app,
        req.method ?? '',
        pathOf(req.url),
        status,
        Math.round(seconds * 10000) / 10,
        sent,
        this.trusted.empty ? peer : this.clientBehind(peer, req.headers['x-forwarded-for']),
        res[kId] ?? '',
      );
    }
  }

  /** The client's address after trusted proxies (only asked when some are configured). */
  private clientBehind(peer: string, xff: string | string[] | undefined): string {
    return this.trusted.clientAddress(peer, Array.isArray(xff) ? xff.join(', ') : xff);
  }

  /** This worker's figures, for the primary to sum. */
  snapshot(): ProxyFigures {
    const out = emptyFigures();
    for (const s of this.slots.values()) {
      out.apps[s.app] = { ...s.f, requests: [...s.f.requests], buckets: [...s.f.buckets], upstreamErrors: [...s.f.upstreamErrors] };
      out.accessLogDropped += s.log.dropped;
    }
    out.connections = this.connections();
    out.tlsHandshakes = [...this.tls];
    out.workers = 1;
    return out;
  }

  /** The access log entries of `app` that ended after `since` (epoch ms), oldest first, at most `limit`. */
  accessLog(app: string, since: number, limit: number) {
    return this.slots.get(app)?.log.since(since, limit) ?? [];
  }
}
