import type http from 'node:http';
import type { Socket } from 'node:net';
import httpProxy from '@fastify/http-proxy';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import type { WebSocket } from 'ws';
import type { Logger } from '../log/logger.js';
import type { ErrorPages } from './error-pages.js';
import { ProxyContext, type TargetDownListener } from './proxy-context.js';
import { ProxyErrors } from './proxy-errors.js';
import type { Router } from './router.js';
import type { Service } from './service.js';
import type { Target } from './target.js';
import type { ReplyFromResponse } from './upstream-exchange.js';
import { kExchangeOwner, type UpstreamPools } from './upstream-pools.js';

declare module 'fastify' {
  interface FastifyRequest {
    paasTarget: Target | null;
    paasCtx: ProxyContext | null;
  }
}

export interface ProxyAppDeps {
  bodyLimit: number;
  router: Router;
  pools: UpstreamPools;
  errorPages: ErrorPages;
  log: Logger;
  /** upgraded client sockets -> their target, to attach the websocket once it is open */
  upgradeTargets: WeakMap<Socket, Target>;
  /** prefix of generated request ids (unique per worker) */
  idPrefix: string;
  onTargetDown: TargetDownListener;
  /** answers before routing when it returns true: ACME challenges, HTTPS redirects (https-redirect.ts) */
  gate?: (request: FastifyRequest, reply: FastifyReply) => boolean;
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

/** reply-from copies these onto the reply; the exchange writes the upstream's headers itself. */
const NO_HEADERS: Record<string, never> = Object.freeze({}) as Record<string, never>;

type Headers = Record<string, string | string[] | undefined>;

function forwardedHeaders(request: FastifyRequest, headers: Headers): void {
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
}

/**
 * The worker's fastify instance: @fastify/http-proxy (reply-from over the UpstreamPools) with
 * Host routing. Plain requests take a fast path in a route preHandler that calls reply.from
 * itself (http-proxy's handler re-parses the URL three times per request); websocket upgrades
 * go on to http-proxy's handler.
 */
export async function buildProxyApp(deps: ProxyAppDeps): Promise<FastifyInstance> {
  const { bodyLimit, router, pools, errorPages, log, upgradeTargets, onTargetDown, gate } = deps;
  let idCounter = 0;
  const app = Fastify({
    logger: false,
    bodyLimit,
    requestIdHeader: 'x-request-id',
    genReqId: () => deps.idPrefix + (++idCounter).toString(36),
    return503OnClosing: false,
    keepAliveTimeout: 75_000,
    forceCloseConnections: 'idle',
  });
  app.decorateRequest('paasTarget', null);
  app.decorateRequest('paasCtx', null);

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

  /**
   * getUpstream's fallback, reached only by websocket upgrades (the fast path has set paasCtx for
   * every other request): picks a target and tracks the upgraded socket under it.
   */
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

  const replyOptions = {
    getUpstream: (request: FastifyRequest) => request.paasCtx?.target?.origin ?? upgradeTarget(request).origin,
    retryDelay: () => null,
    rewriteRequestHeaders: (request: FastifyRequest, headers: Headers) => {
      forwardedHeaders(request, headers);
      (headers as Record<symbol, unknown>)[kExchangeOwner] = request.paasCtx;
      return headers;
    },
    rewriteHeaders: () => NO_HEADERS,
    onResponse: (_request: FastifyRequest, reply: FastifyReply, res: ReplyFromResponse) => res.stream.pipeTo(reply),
    onError: (reply: FastifyReply, { error }: { error: Error }) => {
      const target = reply.request.paasCtx?.target ?? reply.request.paasTarget;
      const timeout = (error as { statusCode?: number }).statusCode === 504;
      const status = target?.expired || timeout ? 504 : 502;
      log.warn({ target: target?.address, err: error.message, status }, 'upstream request failed');
      sendPage(reply, status);
    },
  };

  /** The fast path: limit, route (503 page when no target), track, then reply.from with the request's own URL. */
  const proxyRequest = (request: FastifyRequest, reply: FastifyReply, next: (err?: Error) => void): void => {
    if ((request.raw as { upgrade?: boolean }).upgrade === true) {
      next();
      return;
    }
    if (gate !== undefined && gate(request, reply)) return;
    const cl = request.headers['content-length'];
    if (cl !== undefined && Number(cl) > bodyLimit) {
      reply.header('connection', 'close');
      sendPage(reply, 413);
      return;
    }
    const picked = route(request);
    if (picked === null) {
      log.debug({ host: request.headers.host }, 'no healthy target for host');
      sendPage(reply, 503);
      return;
    }
    const ctx = new ProxyContext(picked.svc, picked.target, onTargetDown);
    ctx.track(reply.raw);
    request.paasCtx = ctx;
    try {
      reply.from(undefined, replyOptions as never);
    } catch (err) {
      // reply-from refuses a path that escapes the origin ("..", absolute URL)
      const e = err as Error & { statusCode?: number };
      e.statusCode ??= 400;
      next(e);
    }
  };

  await app.register(httpProxy, {
    upstream: '',
    wsUpstream: '',
    websocket: true,
    undici: pools as never,
    disableRequestLogging: true,
    httpMethods: ['DELETE', 'GET', 'HEAD', 'PATCH', 'POST', 'PUT', 'OPTIONS'],
    preHandler: proxyRequest,
    replyOptions,
    wsServerOptions: {
      verifyClient: (info: { req: http.IncomingMessage }, cb: (ok: boolean, code?: number, message?: string) => void) => {
        const svc = router.match(info.req.headers.host);
        if (svc && svc.balancer.size > 0) cb(true);
        else cb(false, 503, 'Service Unavailable');
      },
    },
    wsClientOptions: {
      rewriteRequestHeaders: (_headers: Record<string, string>, request: FastifyRequest) => {
        const out: Headers = {};
        for (const [k, v] of Object.entries(request.headers)) if (v !== undefined && !WS_SKIP_HEADERS.has(k)) out[k] = v;
        forwardedHeaders(request, out);
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
