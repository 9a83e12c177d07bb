import http from 'node:http';
import type { Socket } from 'node:net';
import httpProxy from '@fastify/http-proxy';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import type { WebSocket } from 'ws';
import { ProxyErrors } from '../proxy-errors.js';
import { isTls } from './request-handler.js';
import { requestIdFor, upstreamRequestHeaders } from './request-headers.js';
import type { RequestMetrics } from './request-metrics.js';
import type { Router } from '../routing/router.js';
import type { Target } from '../routing/target.js';
import type { TrustedProxies } from '../../util/trusted-proxies.js';

export interface WebSocketAppDeps {
  router: Router;
  trusted: TrustedProxies;
  /** prefix of generated request ids (unique per worker) */
  idPrefix: string;
  /** request figures and access log (request-metrics.ts); null: off */
  metrics?: RequestMetrics | null;
}

const kRequestId = Symbol('paasWsRequestId');
type WithId = http.IncomingMessage & { [kRequestId]?: string };

type Headers = Record<string, string | string[] | undefined>;

/**
 * Websocket upgrades, proxied by @fastify/http-proxy (ws on both sides): Host routing to a live
 * target, the upgraded socket tracked under it (drains close it with 1012), forwarding headers as
 * for plain requests. Built on the first websocket a worker sees (proxy-worker.ts), so a worker
 * that never proxies one never loads fastify; it is fed 'upgrade' events, never listens itself.
 */
export async function buildWebSocketApp(deps: WebSocketAppDeps): Promise<FastifyInstance> {
  const { router, trusted } = deps;
  const metrics = deps.metrics ?? null;
  const upgradeTargets = new WeakMap<Socket, Target>();
  let idCounter = 0;
  const nextId = () => `${deps.idPrefix}ws${(++idCounter).toString(36)}`;
  const app = Fastify({
    logger: false,
    requestIdHeader: false,
    genReqId: (req) => (req as WithId)[kRequestId] ?? requestIdFor(req as http.IncomingMessage, nextId),
    serverFactory: (handler) => http.createServer(handler),
  });
  /** The status the proxy answers an upgrade with, for the figures. */
  const answered = (req: http.IncomingMessage, status: number): void => metrics?.upgradeAnswered(req.socket, status);
  if (metrics !== null) {
    // before @fastify/http-proxy's own listener: an upgrade routed to an app is in flight from here
    // until its connection closes, and counted then (request-metrics.ts)
    app.server.prependListener('upgrade', (req: http.IncomingMessage, socket: Socket) => {
      const svc = router.match(req.headers.host);
      if (svc === undefined) return;
      const id = requestIdFor(req, nextId);
      (req as WithId)[kRequestId] = id;
      metrics.beginUpgrade(svc, req, socket, id);
    });
  }

  /** The upstream of an upgrade: picks a target and tracks the upgraded socket under it. */
  const upgradeTarget = (request: FastifyRequest): Target => {
    const svc = router.match(request.headers.host);
    const target = svc?.balancer.pick();
    if (target === undefined) throw ProxyErrors.noRoute(`no healthy target for host '${request.headers.host ?? ''}'`);
    const socket = request.raw.socket;
    target.trackUpgrade(socket);
    upgradeTargets.set(socket, target);
    return target;
  };

  app.setErrorHandler((err: Error & { code?: string }, request, reply) => {
    const status = err.code === ProxyErrors.noRoute.code ? 503 : 502;
    answered(request.raw, status);
    reply.code(status).send();
  });
  await app.register(httpProxy, {
    upstream: '',
    wsUpstream: '',
    websocket: true,
    disableRequestLogging: true,
    httpMethods: ['GET'],
    // only upgrades reach this app; anything else was answered by the plain path
    preHandler: (request: FastifyRequest, reply: FastifyReply, next: () => void) => {
      if (request.raw.headers.upgrade?.toLowerCase() === 'websocket') return next();
      answered(request.raw, 400);
      reply.code(400).send();
    },
    replyOptions: { getUpstream: (request: FastifyRequest) => upgradeTarget(request).origin, retryDelay: () => null },
    wsServerOptions: {
      verifyClient: (info: { req: http.IncomingMessage }, cb: (ok: boolean, code?: number, message?: string) => void) => {
        const svc = router.match(info.req.headers.host);
        // ws checked the handshake before asking: accepted, it answers 101 at once
        const ok = svc !== undefined && svc.balancer.size > 0 && svc.maintenance === null;
        answered(info.req, ok ? 101 : 503);
        if (ok) cb(true);
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
