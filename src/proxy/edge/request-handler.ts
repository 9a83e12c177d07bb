import type http from 'node:http';
import type { Logger } from '../../log/logger.js';
import type { ErrorPages } from './error-pages.js';
import { closeContextOf, ProxyContext, type TargetDownListener } from './proxy-context.js';
import { RequestBody } from './request-body.js';
import { givenRequestId, upstreamRequestHeaders } from './request-headers.js';
import type { RequestMetrics } from './request-metrics.js';
import type { Router } from '../routing/router.js';
import type { Service } from '../routing/service.js';
import type { TrustedProxies } from '../../util/trusted-proxies.js';
import { UpstreamExchange } from './upstream-exchange.js';
import type { UpstreamPools } from './upstream-pools.js';

/**
 * What a request meets before routing (https-redirect.ts): it answers (ACME challenge, redirect)
 * and returns null, or returns the headers to add to whatever answers (HSTS), [] for none.
 */
export type FrontDoor = (req: http.IncomingMessage, res: http.ServerResponse) => string[] | null;

export interface RequestHandlerDeps {
  router: Router;
  pools: UpstreamPools;
  errorPages: ErrorPages;
  log: Logger;
  trusted: TrustedProxies;
  /** prefix of generated request ids (unique per worker) */
  idPrefix: string;
  onTargetDown: TargetDownListener;
  gate?: FrontDoor;
  /** request figures and access log (request-metrics.ts); null: off */
  metrics?: RequestMetrics | null;
}

export type RequestHandler = (req: http.IncomingMessage, res: http.ServerResponse) => void;

const NO_HEADERS: string[] = [];

export function isTls(req: http.IncomingMessage): boolean {
  return (req.socket as { encrypted?: boolean }).encrypted === true;
}

/**
 * Writes one of the proxy's own pages; a response already started can only be cut. `close` also
 * ends the client connection (its request body was not read to the end).
 */
export function writePage(
  res: http.ServerResponse,
  status: number,
  body: string,
  requestId: string,
  close: boolean,
  extra: readonly string[] = NO_HEADERS,
): void {
  if (res.headersSent || res.destroyed) {
    res.destroy();
    return;
  }
  if (close) res.shouldKeepAlive = false;
  const headers: string[] = [
    'content-type',
    'text/html; charset=utf-8',
    'content-length',
    String(Buffer.byteLength(body)),
    'cache-control',
    'no-store',
    'x-request-id',
    requestId,
    ...extra,
  ];
  res.writeHead(status, headers);
  res.end(body);
}

/**
 * The data path of plain HTTP requests, on Node's own request and response objects (no framework
 * in between: this is the proxy's hot path): front door (ACME, redirects, HSTS), Host routing,
 * traffic controls (maintenance, pause), the body limit, then an UpstreamExchange over Node's
 * http client writing straight into the response. Websocket upgrades go elsewhere (websocket-app.ts).
 */
export function createRequestHandler(deps: RequestHandlerDeps): RequestHandler {
  const { router, pools, errorPages, log, trusted, onTargetDown, gate } = deps;
  const metrics = deps.metrics ?? null;
  // a routed response's one close listener is the metrics' (begin): it closes the proxy context too
  if (metrics !== null) metrics.afterClose = closeContextOf;
  let idCounter = 0;

  /**
   * Sends the request to a target of `svc` (once a pause lets it go on). A body is read first up
   * to BODY_BUFFER_BYTES (all of a small one), and only then is a target picked and a connection taken.
   */
  const forward = (req: http.IncomingMessage, res: http.ServerResponse, svc: Service, id: string, extra: string[]): void => {
    if (res.destroyed || req.destroyed) return;
    const h = req.headers;
    const chunked = h['transfer-encoding'] !== undefined;
    const cl = h['content-length'];
    let exchange: UpstreamExchange | null = null;
    const body =
      chunked || (cl !== undefined && cl !== '0')
        ? new RequestBody(req, svc.bodyLimit, () => {
            exchange?.destroy();
            writePage(res, 413, errorPages.render(413, id), id, true, extra);
          })
        : null;
    const send = (): void => {
      if (res.destroyed || res.headersSent) return;
      const target = svc.balancer.pick();
      if (target === undefined) {
        body?.stop();
        writePage(res, 503, errorPages.render(503, id), id, !req.complete, extra);
        return;
      }
      const ctx = new ProxyContext(svc, target, onTargetDown);
      ctx.track(res, metrics !== null);
      // a chunked body read whole goes on with a Content-Length (small servers often refuse chunked uploads)
      const contentLength = chunked ? (body?.wholeLength() ?? null) : null;
      const headers = upstreamRequestHeaders(req, trusted, { requestId: id, https: isTls(req), chunked, contentLength });
      exchange = new UpstreamExchange(
        pools,
        req,
        res,
        { method: req.method ?? 'GET', path: req.url ?? '/', headers, body, responseExtra: extra },
        ctx,
        (status, reason, err) => {
          if (status >= 500) log.warn({ target: ctx.target?.address, err: err?.message ?? reason, status }, 'upstream request failed');
          metrics?.upstreamFailed(svc, (err as NodeJS.ErrnoException | undefined)?.code);
          if (status === 0) return; // cut mid-response: the client connection is closed already
          const page = status === 503 ? errorPages.busy(id) : errorPages.render(status, id);
          writePage(res, status, page, id, !req.complete, extra);
        },
      );
      exchange.start(target);
    };
    if (body === null) send();
    else body.whenReady(send);
  };

  return (req, res) => {
    // the worker's own ids are its prefix and a counter: the access log keeps the counter (a number, not a string to retain)
    const given = givenRequestId(req);
    const n = given === undefined ? ++idCounter : 0;
    const id = given ?? deps.idPrefix + n.toString(36);
    const extra = gate === undefined ? NO_HEADERS : gate(req, res);
    if (extra === null) return;
    const url = req.url ?? '';
    if (url.charCodeAt(0) !== 47 /* / */ && !(url === '*' && req.method === 'OPTIONS')) {
      writePage(res, 400, errorPages.render(400, id), id, !req.complete, extra);
      return;
    }
    if (req.method === 'TRACE') {
      // as nginx: TRACE would echo the client's headers (cookies included) back to a script
      writePage(res, 405, errorPages.render(405, id), id, !req.complete, extra);
      return;
    }
    const host = req.headers.host;
    const svc = router.match(host);
    if (metrics !== null && svc !== undefined) metrics.begin(svc, res, given ?? n);
    if (svc === undefined || svc.balancer.size === 0) {
      log.debug({ host }, 'no healthy target for host');
      writePage(res, 503, errorPages.render(503, id), id, !req.complete, extra);
      return;
    }
    if (svc.maintenance !== null) {
      writePage(res, 503, errorPages.maintenance(svc.maintenance, id), id, !req.complete, extra);
      return;
    }
    const cl = req.headers['content-length'];
    if (cl !== undefined && Number(cl) > svc.bodyLimit) {
      writePage(res, 413, errorPages.render(413, id), id, true, extra);
      return;
    }
    if (svc.pause.paused) svc.pause.hold(() => forward(req, res, svc, id, extra));
    else forward(req, res, svc, id, extra);
  };
}
