import http from 'node:http';
import type { Socket } from 'node:net';
import httpProxy from '@fastify/http-proxy';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import type { WebSocket } from 'ws';
import type { Logger } from '../log/logger.js';
import { type EdgeLimits, serverOptions } from './edge-limits.js';
import type { ErrorPages } from './error-pages.js';
import { ProxyContext, type TargetDownListener } from './proxy-context.js';
import { ProxyErrors } from './proxy-errors.js';
import { RequestBody } from './request-body.js';
import { requestIdFor, upstreamRequestHeaders } from './request-headers.js';
import type { Router } from './router.js';
import type { Service } from './service.js';
import type { Target } from './target.js';
import type { TrustedProxies } from '../util/trusted-proxies.js';
import { UpstreamExchange } from './upstream-exchange.js';
import type { UpstreamPools } from './upstream-pools.js';

declare module 'fastify' {
  interface FastifyRequest {
    paasTarget: Target | null;
  }
}

export interface ProxyAppDeps {
  router: Router;
  pools: UpstreamPools;
  errorPages: ErrorPages;
  log: Logger;
  limits: EdgeLimits;
  trusted: TrustedProxies;
  /** upgraded client sockets -> their target, to attach the websocket once it is open */
  upgradeTargets: WeakMap<Socket, Target>;
  /** prefix of generated request ids (unique per worker) */
  idPrefix: string;
  onTargetDown: TargetDownListener;
  /** answers before routing when it returns true: ACME challenges, HTTPS redirects (https-redirect.ts) */
  gate?: (request: FastifyRequest, reply: FastifyReply) => boolean;
}

type Headers = Record<string, string | string[] | undefined>;

function isTls(req: http.IncomingMessage): boolean {
  return (req.socket as { encrypted?: boolean }).encrypted === true;
}

function isWebSocketUpgrade(req: http.IncomingMessage): boolean {
  const up = req.headers.upgrade;
  return up !== undefined && up.toLowerCase() === 'websocket';
}

/**
 * Writes one of the proxy's own pages on a raw response; a response already started can only be
 * cut. `close` also ends the client connection (its request body was not read to the end).
 */
function writePage(res: http.ServerResponse, status: number, body: string, requestId: string, close: boolean): void {
  if (res.headersSent || res.destroyed) {
    res.destroy();
    return;
  }
  if (close) res.shouldKeepAlive = false;
  res.writeHead(status, {
    'content-type': 'text/html; charset=utf-8',
    'content-length': Buffer.byteLength(body),
    'cache-control': 'no-store',
    'x-request-id': requestId,
  });
  res.end(body);
}

/**
 * The worker's fastify instance. Plain requests take a fast path in a route preHandler: Host
 * routing, traffic controls (maintenance, pause), then an UpstreamExchange over Node's http client
 * writing straight into the raw response. Websocket upgrades go on to @fastify/http-proxy's handler.
 */
export async function buildProxyApp(deps: ProxyAppDeps): Promise<FastifyInstance> {
  const { router, pools, errorPages, log, upgradeTargets, onTargetDown, trusted, gate } = deps;
  let idCounter = 0;
  const nextId = () => deps.idPrefix + (++idCounter).toString(36);
  const app = Fastify({
    logger: false,
    requestIdHeader: false,
    genReqId: (req) => requestIdFor(req as http.IncomingMessage, trusted, nextId),
    return503OnClosing: false,
    forceCloseConnections: 'idle',
    serverFactory: (handler) => http.createServer(serverOptions(deps.limits), handler),
  });
  app.decorateRequest('paasTarget', null);
  // bodies are streamed by the exchange, never parsed: fastify's own text/plain parser would read
  // the body first (http-proxy's '*' passthrough does not cover it) and the upstream never got it
  app.removeContentTypeParser(['text/plain']);

  const sendPage = (reply: FastifyReply, status: number): void => {
    if (reply.sent || reply.raw.headersSent) {
      reply.raw.destroy();
      return;
    }
    reply
      .code(status)
      .header('content-type', 'text/html; charset=utf-8')
      .header('cache-control', 'no-store')
      .header('x-request-id', reply.request.id)
      .send(errorPages.render(status, reply.request.id));
  };

  /** The service for the request's Host and a live target of it; null when there is none. */
  const route = (request: FastifyRequest): { svc: Service; target: Target } | null => {
    const svc = router.match(request.headers.host);
    const target = svc?.balancer.pick();
    return svc === undefined || target === undefined ? null : { svc, target };
  };

  /** The websocket path's upstream: picks a target and tracks the upgraded socket under it. */
  const upgradeTarget = (request: FastifyRequest): Target => {
    const picked = route(request);
    if (picked === null) throw ProxyErrors.noRoute(`no healthy target for host '${request.headers.host ?? ''}'`);
    const { target } = picked;
    request.paasTarget = target;
    const socket = request.raw.socket;
    target.trackUpgrade(socket);
    upgradeTargets.set(socket, target);
    return target;
  };

  app.setErrorHandler((err: Error & { statusCode?: number; code?: string }, _request, reply) => {
    let status = 502;
    if (err.code === ProxyErrors.noRoute.code) status = 503;
    else if (typeof err.statusCode === 'number' && err.statusCode >= 400 && err.statusCode < 500) status = err.statusCode;
    else if (err.statusCode === 504) status = 504;
    if (status >= 500) log.warn({ err: err.message, code: err.code, status }, 'proxy request failed');
    sendPage(reply, status);
  });
  app.setNotFoundHandler((_request, reply) => sendPage(reply, 404));

  /**
   * Sends the request to a target of `svc` (once a pause lets it go on). A body is read first up
   * to BODY_BUFFER_BYTES (all of a small one), and only then is a target picked and a connection taken.
   */
  const forward = (request: FastifyRequest, res: http.ServerResponse, svc: Service): void => {
    const raw = request.raw;
    if (res.destroyed || raw.destroyed) return;
    const id = request.id;
    const h = raw.headers;
    const chunked = h['transfer-encoding'] !== undefined;
    const cl = h['content-length'];
    let exchange: UpstreamExchange | null = null;
    const body =
      chunked || (cl !== undefined && cl !== '0')
        ? new RequestBody(raw, svc.bodyLimit, () => {
            exchange?.destroy();
            writePage(res, 413, errorPages.render(413, id), id, true);
          })
        : null;
    const send = (): void => {
      if (res.destroyed || res.headersSent) return;
      const target = svc.balancer.pick();
      if (target === undefined) {
        body?.stop();
        writePage(res, 503, errorPages.render(503, id), id, !raw.complete);
        return;
      }
      const ctx = new ProxyContext(svc, target, onTargetDown);
      ctx.track(res);
      // a chunked body read whole goes on with a Content-Length (small servers often refuse chunked uploads)
      const contentLength = chunked ? (body?.wholeLength() ?? null) : null;
      const headers = upstreamRequestHeaders(raw, trusted, { requestId: id, https: isTls(raw), chunked, contentLength });
      exchange = new UpstreamExchange(
        pools,
        raw,
        res,
        { method: raw.method ?? 'GET', path: raw.url ?? '/', headers, body },
        ctx,
        (status, reason, err) => {
          if (status >= 500) log.warn({ target: ctx.target?.address, err: err?.message ?? reason, status }, 'upstream request failed');
          const page = status === 503 ? errorPages.busy(id) : errorPages.render(status, id);
          writePage(res, status, page, id, !raw.complete);
        },
      );
      exchange.start(target);
    };
    if (body === null) send();
    else body.whenReady(send);
  };

  /** The fast path: route, traffic controls, limits, then the exchange on the raw request/response. */
  const proxyRequest = (request: FastifyRequest, reply: FastifyReply, next: (err?: Error) => void): void => {
    const raw = request.raw;
    if ((raw as { upgrade?: boolean }).upgrade === true && isWebSocketUpgrade(raw)) {
      next();
      return;
    }
    if (gate !== undefined && gate(request, reply)) return;
    const url = raw.url ?? '';
    if (url.charCodeAt(0) !== 47 /* / */ && !(url === '*' && raw.method === 'OPTIONS')) {
      sendPage(reply, 400);
      return;
    }
    const svc = router.match(request.headers.host);
    if (svc === undefined || svc.balancer.size === 0) {
      log.debug({ host: request.headers.host }, 'no healthy target for host');
      sendPage(reply, 503);
      return;
    }
    const id = request.id;
    reply.hijack();
    const res = reply.raw;
    // a non-websocket Upgrade (h2c, ...) is served as a plain request on a connection that then closes
    if ((raw as { upgrade?: boolean }).upgrade === true) res.shouldKeepAlive = false;
    if (svc.maintenance !== null) {
      writePage(res, 503, errorPages.maintenance(svc.maintenance, id), id, !raw.complete);
      return;
    }
    const cl = request.headers['content-length'];
    if (cl !== undefined && Number(cl) > svc.bodyLimit) {
      writePage(res, 413, errorPages.render(413, id), id, true);
      return;
    }
    if (svc.pause.paused) svc.pause.hold(() => forward(request, res, svc));
    else forward(request, res, svc);
  };

  const replyOptions = {
    getUpstream: (request: FastifyRequest) => upgradeTarget(request).origin,
    retryDelay: () => null,
  };

  await app.register(httpProxy, {
    upstream: '',
    wsUpstream: '',
    websocket: true,
    disableRequestLogging: true,
    httpMethods: ['DELETE', 'GET', 'HEAD', 'PATCH', 'POST', 'PUT', 'OPTIONS'],
    preHandler: proxyRequest,
    replyOptions,
    wsServerOptions: {
      verifyClient: (info: { req: http.IncomingMessage }, cb: (ok: boolean, code?: number, message?: string) => void) => {
        const svc = router.match(info.req.headers.host);
        if (svc && svc.balancer.size > 0 && svc.maintenance === null) cb(true);
        else cb(false, 503, 'Service Unavailable');
      },
    },
    wsClientOptions: {
      rewriteRequestHeaders: (_headers: Record<string, string>, request: FastifyRequest) => {
        const flat = upstreamRequestHeaders(request.raw, trusted, { requestId: request.id, https: isTls(request.raw), chunked: false });
        const out: Headers = {};
        for (let i = 0; i < flat.length; i += 2) {
          const k = flat[i].toLowerCase();
          if (!k.startsWith('sec-websocket-') && k !== 'content-length') out[k] = flat[i + 1];
        }
        return out;
      },
    },
    wsHooks: {
      onConnect: (_ctx: unknown, source: WebSocket) => {
        // ws keeps the upgraded client socket in `_socket`; it is the key the upgrade was tracked under.
        const socket = (source as unknown as { _socket?: Socket })._socket;
        if (!socket) return;
        upgradeTargets.get(socket)?.attachWebSocket(socket, source);
      },
    },
  } as never);
  await app.ready();
  return app;
}
