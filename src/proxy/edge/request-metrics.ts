import type http from 'node:http';
import type http2 from 'node:http2';
import type { Socket } from 'node:net';
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
const kSession = Symbol('paasMetricsSession');
const kUpgrade = Symbol('paasMetricsUpgrade');

/** Where a connection keeps how far the requests that ended on it took its byte counters. */
type Marks = { [kRead]?: number; [kWritten]?: number };
type MarkedSocket = Marks & { bytesRead: number; bytesWritten: number };
/** An HTTP/2 session: the marks are kept on it (its socket is reached through a proxy object). */
type MarkedSession = http2.Http2Session & Marks;
type Tracked = http.ServerResponse & { [kSlot]?: AppSlot; [kStart]?: number; [kId]?: string | number; [kSession]?: MarkedSession };
type WithSlot = { readonly name: string; [kSlot]?: AppSlot };

/** A websocket upgrade in flight: the connection it took over is counted until it closes. */
interface Upgrade {
  slot: AppSlot;
  req: http.IncomingMessage;
  id: string;
  /** the peer's address, read while the socket is open */
  peer: string;
  start: number;
  /** when the proxy answered the upgrade (101, or a refusal), 0 before */
  answered: number;
  status: number;
}
type UpgradeSocket = Socket & MarkedSocket & { [kUpgrade]?: Upgrade };

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
  private readonly idPrefix: string;
  /** the last peer address seen and its plain form: an IPv4-mapped one is sliced once, not per request */
  private peerIn = '';
  private peerOut = '';
  /** open client connections, read at snapshot time */
  connections: () => number = () => 0;
  private readonly onClose: (this: Tracked) => void;
  /**
   * Called with each response after it is counted: the request handler closes its proxy context
   * here, so a response has one close listener, not two (two made every close emit from an array).
   */
  afterClose: ((res: http.ServerResponse) => void) | null = null;
  private readonly onUpgradeClose: (this: UpgradeSocket) => void;

  /** `idPrefix`: the prefix of the worker's own request ids (passed to begin() as their number) */
  constructor(trusted: TrustedProxies, idPrefix = '', logSize = 1000) {
    this.trusted = trusted;
    this.idPrefix = idPrefix;
    this.logSize = logSize;
    const self = this;
    this.onClose = function (this: Tracked) {
      self.end(this);
      self.afterClose?.(this);
    };
    this.onUpgradeClose = function (this: UpgradeSocket) {
      self.endUpgrade(this);
    };
  }

  private slot(service: WithSlot): AppSlot {
    let s = service[kSlot];
    if (s !== undefined) return s;
    s = this.slots.get(service.name);
    if (s === undefined) {
      s = { app: service.name, f: emptyAppFigures(), log: new AccessLog(this.logSize, this.idPrefix) };
      this.slots.set(service.name, s);
    }
    service[kSlot] = s;
    return s;
  }

  /**
   * A request routed to `service` starts: counted in flight until its response closes.
   * `requestId`: the client's, or the number of the worker's own (`idPrefix` + its base 36).
   */
  begin(service: WithSlot, res: http.ServerResponse, requestId: string | number): void {
    const s = this.slot(service);
    s.f.inFlight++;
    const t = res as Tracked;
    t[kSlot] = s;
    t[kStart] = performance.now();
    t[kId] = requestId;
    // an HTTP/2 stream has no byte counters and has left its session by the time it closes: the
    // session is kept to read its connection's counters then (an HTTP/1 request reads its socket's)
    const req = res.req as http.IncomingMessage | undefined;
    if (req !== undefined && req.httpVersionMajor === 2) t[kSession] = (req as unknown as http2.Http2ServerRequest).stream.session;
    // `on`, not `once` (no wrapper per request): a response closes once, and end() clears the slot
    res.on('close', this.onClose);
  }

  /**
   * A websocket upgrade routed to `service` starts: in flight until the connection closes, then
   * counted as one request with the status the upgrade was answered with (101 when accepted; see
   * upgradeAnswered), and all the bytes the connection carried.
   */
  beginUpgrade(service: WithSlot, req: http.IncomingMessage, socket: Socket, requestId: string): void {
    const sock = socket as UpgradeSocket;
    if (sock[kUpgrade] !== undefined) return;
    const s = this.slot(service);
    s.f.inFlight++;
    const peer = plainAddress(socket.remoteAddress);
    sock[kUpgrade] = { slot: s, req, id: requestId, peer, start: performance.now(), answered: 0, status: 0 };
    sock.once('close', this.onUpgradeClose);
  }

  /** The proxy answered the upgrade on `socket`: 101 (it goes on as a websocket) or a refusal. The first answer counts. */
  upgradeAnswered(socket: Socket, status: number): void {
    const u = (socket as UpgradeSocket)[kUpgrade];
    if (u === undefined || u.status !== 0) return;
    u.status = status;
    u.answered = performance.now();
  }

  /**
   * An upstream exchange for `service` failed (refused, timed out, reset): before the app answered
   * (the client got a 502/503/504 page), or in the middle of its body (the client's connection was cut).
   */
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
    s.f.inFlight--;
    const seconds = (performance.now() - (res[kStart] ?? 0)) / 1000;
    // a client that left before any answer: nginx's 499
    const status = res.headersSent ? res.statusCode : 499;
    const req = res.req as http.IncomingMessage | undefined;
    if (req !== undefined && req.httpVersionMajor === 1) {
      const sock = req.socket as unknown as MarkedSocket;
      this.record(s, req, status, seconds, seconds, sock, sock.bytesRead, sock.bytesWritten, res[kId] ?? '', undefined);
      return;
    }
    // HTTP/2: the connection's bytes since the previous stream on it ended (concurrent streams
    // share them; their sum is the connection's); none once the session is gone
    const session = res[kSession];
    let read = -1;
    let written = 0;
    try {
      if (session !== undefined && !session.destroyed) {
        const sock = session.socket;
        read = sock.bytesRead;
        written = sock.bytesWritten;
      }
    } catch {
      // the session let go of its socket (ERR_HTTP2_SOCKET_UNBOUND)
    }
    if (read < 0) this.record(s, req, status, seconds, seconds, undefined, 0, 0, res[kId] ?? '', undefined);
    else this.record(s, req, status, seconds, seconds, session, read, written, res[kId] ?? '', undefined);
  }

  /** A websocket connection closed: counted as the request that opened it. */
  private endUpgrade(socket: UpgradeSocket): void {
    const u = socket[kUpgrade];
    if (u === undefined) return;
    socket[kUpgrade] = undefined;
    u.slot.f.inFlight--;
    const now = performance.now();
    // never answered by the proxy: ws refused a malformed handshake itself (400), or the client left
    const status = u.status !== 0 ? u.status : socket.bytesWritten > (socket[kWritten] ?? 0) ? 400 : 499;
    // the histogram takes the time to the answer (the latency), the access log the connection's whole life
    const answered = u.answered !== 0 ? u.answered : now;
    this.record(
      u.slot,
      u.req,
      status,
      (answered - u.start) / 1000,
      (now - u.start) / 1000,
      socket,
      socket.bytesRead,
      socket.bytesWritten,
      u.id,
      u.peer,
    );
  }

  /**
   * Counts one request that ended: method and status class, the duration histogram, the bytes the
   * connection carried (`read`, `written`: its counters now) since the previous request on it
   * ended (`marks`; headers included), an access log entry.
   */
  private record(
    s: AppSlot,
    req: http.IncomingMessage | undefined,
    status: number,
    seconds: number,
    totalSeconds: number,
    marks: Marks | undefined,
    read: number,
    written: number,
    id: string | number,
    /** the peer's address when the connection is closed already; undefined: read it from the request's socket */
    peerAddress: string | undefined,
  ): void {
    const f = s.f;
    f.requests[methodIndex(req?.method) * CLASSES + Math.min(Math.max(Math.floor(status / 100), 1), 5) - 1]++;
    let b = 0;
    while (b < BUCKETS.length && seconds > BUCKETS[b]) b++;
    f.buckets[b]++;
    f.durationSum += seconds;
    let sent = 0;
    if (marks !== undefined) {
      f.requestBytes += read - (marks[kRead] ?? 0);
      sent = written - (marks[kWritten] ?? 0);
      f.responseBytes += sent;
      marks[kRead] = read;
      marks[kWritten] = written;
    }
    if (req !== undefined) {
      const peer = peerAddress ?? this.plainPeer(req.socket?.remoteAddress);
      s.log.write(
        Date.now(),
        s.app,
        req.method ?? '',
        pathOf(req.url),
        status,
        Math.round(totalSeconds * 10000) / 10,
        sent,
        this.trusted.empty ? peer : this.clientBehind(peer, req.headers['x-forwarded-for']),
        id,
      );
    }
  }

  private plainPeer(address: string | undefined): string {
    if (address !== this.peerIn) {
      this.peerIn = address ?? '';
      this.peerOut = plainAddress(address);
    }
    return this.peerOut;
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
