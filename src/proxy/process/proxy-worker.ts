import { randomBytes } from 'node:crypto';
import http from 'node:http';
import type net from 'node:net';
import type { Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import type { FastifyInstance } from 'fastify';
import type { Logger } from '../../log/logger.js';
import { type ChallengeMap, ChallengeStore } from '../edge/acme-challenges.js';
import type { ErrorPages } from '../edge/error-pages.js';
import { frontDoor } from '../edge/https-redirect.js';
import { ConnectionLimiter, type EdgeLimits, serverOptions } from '../edge/edge-limits.js';
import { createRequestHandler, type RequestHandler } from '../edge/request-handler.js';
import type { AccessEntry, ProxyFigures } from '../edge/request-figures.js';
import { RequestMetrics } from '../edge/request-metrics.js';
import type { TargetDownListener } from '../edge/proxy-context.js';
import type { InflightStats, RouteTable, WorkerStats } from '../routing/route-table.js';
import { Router } from '../routing/router.js';
import type { Target } from '../routing/target.js';
import type { TlsState } from '../tls/tls-state.js';
import { createTlsServer, type TlsServer } from '../tls/tls-server.js';
import { TlsStore } from '../tls/tls-store.js';
import type { TrustedProxies } from '../../util/trusted-proxies.js';
import { type UpstreamOptions, UpstreamPools } from '../edge/upstream-pools.js';
import { type BoundPorts, listen } from './listen-sockets.js';
import type { DrainResult } from './worker-pool.js';

export interface ProxyWorkerOptions {
  listen: string;
  httpPort: number;
  httpsPort: number;
  /** the default certificate (served when no other matches), null: no HTTPS listener */
  tls: { cert: Buffer; key: Buffer } | null;
  /** the certificates loaded before listening (tls-state-file.ts) */
  tlsState?: TlsState;
  /** the body limit of services without their own */
  bodyLimit: number;
  upstream: UpstreamOptions;
  /** client connection limits of this worker process */
  limits: EdgeLimits;
  /** bench only (`PAAS_PROXY_BENCH_NO_LIMITS=1`): Node's own server defaults, no connection caps, to measure what the limits cost */
  withoutLimits?: boolean;
  trusted: TrustedProxies;
  errorPages: ErrorPages;
  logger: Logger;
  /** request metrics and the access log (`PAAS_PROXY_METRICS=off` turns both off); default on */
  metrics?: boolean;
}

function isWebSocketUpgrade(req: http.IncomingMessage): boolean {
  const up = req.headers.upgrade;
  return up !== undefined && up.toLowerCase() === 'websocket';
}

/**
 * The data path of one worker: Node http servers (HTTP, and HTTPS with h2) whose requests take the
 * plain path of request-handler.ts (Host routing to a round-robin target, 502/503/504 pages), and
 * whose websocket upgrades go to a fastify + @fastify/http-proxy app built on the first one
 * (websocket-app.ts). Drains retired targets on request.
 */
export class ProxyWorker {
  readonly router: Router;
  private readonly pools: UpstreamPools;
  readonly limiter: ConnectionLimiter;
  private readonly opts: ProxyWorkerOptions;
  private readonly log: Logger;
  private server: http.Server | null = null;
  private handler: RequestHandler | null = null;
  /** the websocket proxy, once the first upgrade asked for it */
  private wsApp: Promise<FastifyInstance> | null = null;
  private readonly idPrefix = `${randomBytes(4).toString('hex')}-`;
  private httpsServer: TlsServer | null = null;
  private readonly retired: Array<{ service: string; target: Target }> = [];
  private readonly tlsStore: TlsStore | null;
  private readonly challenges = new ChallengeStore();
  ports = { http: 0, https: 0 };
  private closing = false;
  /** told when this worker takes a target out of rotation after refused connections */
  onTargetDown: TargetDownListener | null = null;
  /** request figures and access log; null when metrics are off */
  readonly metrics: RequestMetrics | null;

  constructor(opts: ProxyWorkerOptions) {
    this.opts = opts;
    this.log = opts.logger;
    this.pools = new UpstreamPools(opts.upstream);
    this.router = new Router(opts.bodyLimit);
    this.limiter = new ConnectionLimiter(opts.limits, opts.trusted);
    this.tlsStore = opts.tls ? new TlsStore(opts.tls, opts.logger, (host) => this.router.match(host) !== undefined) : null;
    if (opts.tlsState) this.tlsStore?.apply(opts.tlsState);
    this.metrics = opts.metrics === false ? null : new RequestMetrics(opts.trusted, this.idPrefix);
    if (this.metrics) this.metrics.connections = () => this.limiter.connections;
  }

  /** This worker's request figures (empty when metrics are off). */
  figures(): ProxyFigures | null {
    return this.metrics?.snapshot() ?? null;
  }

  accessLog(app: string, since: number, limit: number): AccessEntry[] {
    return this.metrics?.accessLog(app, since, limit) ?? [];
  }

  /** Swaps the certificates: new handshakes get them, open connections keep theirs. */
  applyTls(state: TlsState): void {
    this.tlsStore?.apply(state);
  }

  applyChallenges(challenges: ChallengeMap): void {
    this.challenges.replace(challenges);
  }

  /** Applies a route table; targets it drops keep draining until drain() is called for them. */
  apply(table: RouteTable): void {
    if (table.version < this.router.version) return;
    for (const r of this.router.apply(table)) {
      for (const target of r.targets) this.retired.push({ service: r.service, target });
    }
  }

  stats(): WorkerStats {
    const upstream: WorkerStats['upstream'] = {};
    for (const [origin, c] of Object.entries(this.pools.connections()))
      upstream[origin.slice('http://'.length)] = { active: c.active, idle: c.idle };
    return { inflight: this.inflight(), clients: this.limiter.connections, upstream };
  }

  private inflight(): InflightStats {
    const out: InflightStats = {};
    for (const svc of this.router.services.values()) {
      const s: Record<string, number> = {};
      for (const t of svc.targets.values()) s[t.address] = t.inflight;
      out[svc.name] = s;
    }
    for (const { service, target } of this.retired) {
      if (out[service] === undefined) out[service] = {};
      const s = out[service];
      s[target.address] = (s[target.address] ?? 0) + target.inflight;
    }
    return out;
  }

  /**
   * Waits for in-flight requests on retired targets of `service` to finish. Websockets on them are
   * closed with 1012 at once; requests still running after `timeoutMs` are failed with 504.
   */
  async drain(service: string, addresses: readonly string[], timeoutMs: number): Promise<DrainResult> {
    const wanted = new Set(addresses);
    const targets: Target[] = [];
    for (let i = this.retired.length - 1; i >= 0; i--) {
      const r = this.retired[i];
      if (r.service === service && wanted.has(r.target.address)) {
        targets.push(r.target);
        this.retired.splice(i, 1);
      }
    }
    let websockets = 0;
    for (const t of targets) websockets += t.closeWebSockets();
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, timeoutMs);
    });
    await Promise.race([Promise.all(targets.map((t) => t.whenIdle())), timedOut]);
    clearTimeout(timer);
    let expired = 0;
    for (const t of targets) {
      const busy = t.inflight > 0;
      if (busy) {
        t.expired = true;
        expired += t.inflight;
      }
      if (!this.router.usesOrigin(t.origin)) this.pools.release(t.origin, busy);
    }
    if (expired > 0) this.log.warn({ service, expired, timeoutMs }, 'drain timed out');
    return { drained: targets.length, expired, websockets };
  }

  /**
   * Starts serving. Without `external` the worker binds its ports itself; with it, connections
   * come from the primary (accept()) over listening sockets it owns, on the ports given.
   */
  async listen(external?: BoundPorts): Promise<{ http: number; https: number }> {
    const handler = this.requestHandler();
    const limited = !this.opts.withoutLimits;
    const options = limited ? serverOptions(this.opts.limits) : {};
    const server = http.createServer(options, handler);
    server.on('upgrade', (req: http.IncomingMessage, socket: Socket, head: Buffer) => this.upgrade(req, socket, head));
    this.server = server;
    if (limited) this.limiter.attach(server);
    this.ports.http = external ? external.http : await listen(server, this.opts.httpPort, this.opts.listen);
    if (this.opts.tls) {
      // HTTPS with SNI and ALPN h2/http1.1 (tls-server.ts)
      const tlsServer = createTlsServer(this.opts.tls, this.tlsStore!, options, handler);
      const tlsListener = tlsServer.server;
      const metrics = this.metrics;
      if (metrics) tlsListener.on('secureConnection', (socket: TLSSocket) => metrics.handshake(socket));
      if (limited) {
        this.limiter.countOn(tlsListener);
        this.limiter.attachTimeouts(tlsServer.http1);
        this.limiter.attachH2Timeouts(tlsServer.h2);
      }
      tlsServer.http1.on('upgrade', (req: http.IncomingMessage, socket: Socket, head: Buffer) => this.upgrade(req, socket, head));
      this.httpsServer = tlsServer;
      this.ports.https = external ? external.https : await listen(tlsListener, this.opts.httpsPort, this.opts.listen);
    }
    return this.ports;
  }

  /**
   * A request with an Upgrade header. A websocket goes to the websocket app (loaded on the first
   * one); any other protocol (h2c, ...) is served as a plain request on a connection that then closes.
   */
  private upgrade(req: http.IncomingMessage, socket: Socket, head: Buffer): void {
    if (this.closing) {
      socket.destroy();
      return;
    }
    if (!isWebSocketUpgrade(req)) {
      const res = new http.ServerResponse(req);
      res.assignSocket(socket);
      res.shouldKeepAlive = false;
      res.once('finish', () => socket.end());
      this.handler!(req, res);
      return;
    }
    // the socket stays unread (Node leaves an upgraded socket not flowing) until ws takes it
    this.wsApp ??= import('../edge/websocket-app.js').then((m) =>
      m.buildWebSocketApp({ router: this.router, trusted: this.opts.trusted, idPrefix: this.idPrefix, metrics: this.metrics }),
    );
    this.wsApp.then(
      (app) => app.server.emit('upgrade', req, socket, head),
      (err) => {
        this.log.error({ err: (err as Error).message }, 'websocket proxy failed to load');
        socket.destroy();
      },
    );
  }

  /** A client connection the primary accepted on its listening socket (cluster, or after a hand-over). */
  accept(socket: Socket, tls: boolean): void {
    const server = tls ? this.httpsServer?.server : this.server;
    if (!server || this.closing) {
      socket.destroy();
      return;
    }
    server.emit('connection', socket);
    socket.resume();
  }

  /** The servers bound to the proxy's ports by this worker itself (handed to a successor on upgrade). */
  boundServers(): { http: net.Server | null; https: net.Server | null } {
    const plain = this.server?.listening ? this.server : null;
    const https = this.httpsServer?.server.listening ? this.httpsServer.server : null;
    return { http: plain, https };
  }

  /** Stops accepting, lets in-flight requests finish for up to `graceMs`, then closes everything. */
  async close(graceMs: number): Promise<void> {
    this.closing = true;
    const server = this.server;
    const tls = this.httpsServer;
    const closed = Promise.all([
      server ? new Promise<void>((r) => (server.listening ? server.close(() => r()) : r())) : Promise.resolve(),
      tls ? new Promise<void>((r) => tls.server.close(() => r())) : Promise.resolve(),
    ]);
    server?.closeIdleConnections();
    tls?.closeIdle();
    // websockets end with 1012 (service restart): clients reconnect to whoever serves next
    for (const svc of this.router.services.values()) for (const t of svc.targets.values()) t.closeWebSockets();
    for (const { target } of this.retired) target.closeWebSockets();
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([closed, new Promise<void>((r) => (timer = setTimeout(r, graceMs)))]);
    clearTimeout(timer);
    server?.closeAllConnections();
    tls?.closeAll();
    if (this.wsApp) await this.wsApp.then((app) => app.close()).catch(() => {});
    await this.pools.close();
  }

  private requestHandler(): RequestHandler {
    this.handler ??= createRequestHandler({
      trusted: this.opts.trusted,
      router: this.router,
      pools: this.pools,
      errorPages: this.opts.errorPages,
      log: this.log,
      idPrefix: this.idPrefix,
      onTargetDown: (service, address) => this.onTargetDown?.(service, address),
      metrics: this.metrics,
      gate: this.tlsStore ? frontDoor(this.tlsStore, this.challenges, () => this.ports.https) : undefined,
    });
    return this.handler;
  }
}
