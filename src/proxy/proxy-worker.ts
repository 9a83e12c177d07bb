import { randomBytes } from 'node:crypto';
import type http from 'node:http';
import https from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import httpProxy from '@fastify/http-proxy';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import type { WebSocket } from 'ws';
import type { Logger } from '../log/logger.js';
import type { ErrorPages } from './error-pages.js';
import { ProxyErrorCode, proxyErrors } from './proxy-errors.js';
import type { InflightStats, RouteTable } from './route-table.js';
import { Router } from './router.js';
import type { Target } from './target.js';
import { type UpstreamOptions, UpstreamPools } from './upstream-pools.js';

declare module 'fastify' {
  interface FastifyRequest {
    paasTarget: Target | null;
  }
}

export interface ProxyWorkerOptions {
  listen: string;
  httpPort: number;
  httpsPort: number;
  tls: { cert: Buffer; key: Buffer } | null;
  bodyLimit: number;
  upstream: UpstreamOptions;
  errorPages: ErrorPages;
  logger: Logger;
}

export interface DrainResult {
  drained: number;
  expired: number;
  websockets: number;
}

const kTarget = Symbol('paasTarget');
type TrackedResponse = http.ServerResponse & { [kTarget]?: Target };

function onResponseClose(this: TrackedResponse): void {
  const t = this[kTarget];
  if (t !== undefined) {
    this[kTarget] = undefined;
    t.release();
  }
}

const WS_SKIP_HEADERS = new Set([
  'host',
  'connection',
  'upgrade',
  'sec-websocket-key',
  'sec-websocket-version',
  'sec-websocket-extensions',
  'sec-websocket-protocol',
  'content-length',
  'transfer-encoding',
]);

/**
 * The data path of one worker: a fastify + @fastify/http-proxy server that routes by Host to
 * a round-robin target, answers 502/503/504 pages, and drains retired targets on request.
 */
export class ProxyWorker {
  readonly router = new Router();
  private readonly pools: UpstreamPools;
  private readonly opts: ProxyWorkerOptions;
  private readonly log: Logger;
  private app: FastifyInstance | null = null;
  private httpsServer: https.Server | null = null;
  private readonly retired: Array<{ service: string; target: Target }> = [];
  private readonly upgradeTargets = new WeakMap<Socket, Target>();
  private readonly idPrefix = `${randomBytes(4).toString('hex')}-`;
  private idCounter = 0;
  ports = { http: 0, https: 0 };

  constructor(opts: ProxyWorkerOptions) {
    this.opts = opts;
    this.log = opts.logger;
    this.pools = new UpstreamPools(opts.upstream);
  }

  /** Applies a route table; targets it drops keep draining until drain() is called for them. */
  apply(table: RouteTable): void {
    if (table.version < this.router.version) return;
    for (const r of this.router.apply(table)) {
      for (const target of r.targets) this.retired.push({ service: r.service, target });
    }
  }

  stats(): InflightStats {
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

  async listen(): Promise<{ http: number; https: number }> {
    const app = await this.build();
    await app.listen({ host: this.opts.listen, port: this.opts.httpPort });
    this.ports.http = (app.server.address() as AddressInfo).port;
    if (this.opts.tls) {
      const server = https.createServer({ cert: this.opts.tls.cert, key: this.opts.tls.key }, (req, res) => app.routing(req, res));
      server.keepAliveTimeout = app.server.keepAliveTimeout;
      server.on('upgrade', (req, socket, head) => app.server.emit('upgrade', req, socket, head));
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(this.opts.httpsPort, this.opts.listen, () => {
          server.off('error', reject);
          resolve();
        });
      });
      this.httpsServer = server;
      this.ports.https = (server.address() as AddressInfo).port;
    }
    return this.ports;
  }

  /** Stops accepting, lets in-flight requests finish for up to `graceMs`, then closes everything. */
  async close(graceMs: number): Promise<void> {
    const app = this.app;
    const servers: http.Server[] = [];
    if (app) servers.push(app.server);
    if (this.httpsServer) servers.push(this.httpsServer);
    const closed = Promise.all([
      app ? app.close() : Promise.resolve(),
      this.httpsServer ? new Promise<void>((r) => this.httpsServer!.close(() => r())) : Promise.resolve(),
    ]);
    for (const s of servers) s.closeIdleConnections();
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([closed, new Promise<void>((r) => (timer = setTimeout(r, graceMs)))]);
    clearTimeout(timer);
    for (const s of servers) s.closeAllConnections();
    await this.pools.close();
  }

  private pickTarget(request: FastifyRequest): Target {
    const svc = this.router.match(request.headers.host);
    const target = svc?.balancer.pick();
    if (target === undefined) throw proxyErrors.noRoute(`no healthy target for host '${request.headers.host ?? ''}'`);
    request.paasTarget = target;
    if ((request.raw as { upgrade?: boolean }).upgrade === true) {
      const socket = request.raw.socket;
      target.trackUpgrade(socket);
      this.upgradeTargets.set(socket, target);
    }
    return target;
  }

  private sendPage(reply: FastifyReply, status: number): void {
    if (reply.sent || reply.raw.headersSent) {
      reply.raw.destroy();
      return;
    }
    reply
      .code(status)
      .header('content-type', 'text/html; charset=utf-8')
      .header('cache-control', 'no-store')
      .header('x-request-id', reply.request.id)
      .send(this.opts.errorPages.render(status, reply.request.id));
  }

  private async build(): Promise<FastifyInstance> {
    const bodyLimit = this.opts.bodyLimit;
    const app = Fastify({
      logger: false,
      bodyLimit,
      requestIdHeader: 'x-request-id',
      genReqId: () => this.idPrefix + (++this.idCounter).toString(36),
      return503OnClosing: false,
      keepAliveTimeout: 75_000,
      forceCloseConnections: 'idle',
    });
    app.decorateRequest('paasTarget', null);
    app.setErrorHandler((err: Error & { statusCode?: number; code?: string }, _request, reply) => {
      let status = 502;
      if (err.code === ProxyErrorCode.NO_ROUTE) status = 503;
      else if (typeof err.statusCode === 'number' && err.statusCode >= 400 && err.statusCode < 500) status = err.statusCode;
      else if (err.statusCode === 504) status = 504;
      if (status >= 500) this.log.warn({ err: err.message, code: err.code, status }, 'proxy request failed');
      this.sendPage(reply, status);
    });
    app.setNotFoundHandler((_request, reply) => this.sendPage(reply, 404));

    const upgradeTargets = this.upgradeTargets;
    await app.register(httpProxy, {
      upstream: '',
      wsUpstream: '',
      websocket: true,
      undici: this.pools as never,
      disableRequestLogging: true,
      httpMethods: ['DELETE', 'GET', 'HEAD', 'PATCH', 'POST', 'PUT', 'OPTIONS'],
      handler: (request: FastifyRequest, reply: FastifyReply, dest: string, options: unknown) => {
        const target = request.paasTarget!;
        const cl = request.headers['content-length'];
        if (cl !== undefined && Number(cl) > bodyLimit) {
          reply.header('connection', 'close');
          this.sendPage(reply, 413);
          return reply;
        }
        target.acquire();
        const res = reply.raw as TrackedResponse;
        res[kTarget] = target;
        res.once('close', onResponseClose);
        return reply.from(dest, options as never);
      },
      replyOptions: {
        getUpstream: (request: FastifyRequest) => this.pickTarget(request).origin,
        retryDelay: () => null,
        rewriteRequestHeaders: (request: FastifyRequest, headers: Record<string, string | string[] | undefined>) => {
          const raw = request.raw;
          const host = request.headers.host;
          if (host !== undefined) {
            headers.host = host;
            headers['x-forwarded-host'] = host;
          }
          const prior = request.headers['x-forwarded-for'];
          const ip = raw.socket.remoteAddress ?? '';
          headers['x-forwarded-for'] = prior === undefined ? ip : `${prior}, ${ip}`;
          headers['x-forwarded-proto'] = (raw.socket as { encrypted?: boolean }).encrypted ? 'https' : 'http';
          headers['x-request-id'] = request.id;
          return headers;
        },
        rewriteHeaders: (headers: Record<string, unknown>) => {
          if (headers.connection !== undefined) delete headers.connection;
          if (headers['keep-alive'] !== undefined) delete headers['keep-alive'];
          return headers;
        },
        onError: (reply: FastifyReply, { error }: { error: Error }) => {
          const target = reply.request.paasTarget;
          const timeout = (error as { statusCode?: number }).statusCode === 504;
          const status = target?.expired || timeout ? 504 : 502;
          this.log.warn({ target: target?.address, err: error.message, status }, 'upstream request failed');
          this.sendPage(reply, status);
        },
      },
      wsServerOptions: {
        verifyClient: (info: { req: http.IncomingMessage }, cb: (ok: boolean, code?: number, message?: string) => void) => {
          const svc = this.router.match(info.req.headers.host);
          if (svc && svc.balancer.size > 0) cb(true);
          else cb(false, 503, 'Service Unavailable');
        },
      },
      wsClientOptions: {
        rewriteRequestHeaders: (_headers: Record<string, string>, request: FastifyRequest) => {
          const out: Record<string, string | string[]> = {};
          for (const [k, v] of Object.entries(request.headers)) if (v !== undefined && !WS_SKIP_HEADERS.has(k)) out[k] = v;
          const host = request.headers.host;
          if (host !== undefined) {
            out.host = host;
            out['x-forwarded-host'] = host;
          }
          const prior = request.headers['x-forwarded-for'];
          const ip = request.raw.socket.remoteAddress ?? '';
          out['x-forwarded-for'] = prior === undefined ? ip : `${prior}, ${ip}`;
          out['x-forwarded-proto'] = (request.raw.socket as { encrypted?: boolean }).encrypted ? 'https' : 'http';
          out['x-request-id'] = request.id;
          return out;
        },
      },
      wsHooks: {
        onConnect: (_ctx: unknown, source: WebSocket) => {
          // ws keeps the upgraded client socket in `_socket`; it is the key the upgrade was tracked under.
          const socket = (source as unknown as { _socket?: Socket })._socket;
          if (!socket) return;
          const target = upgradeTargets.get(socket);
          if (target) target.attachWebSocket(socket, source);
          if (target?.retired) source.close(1012, 'service restart');
        },
      },
    } as never);
    await app.ready();
    this.app = app;
    return app;
  }
}
