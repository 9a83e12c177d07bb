import http from 'node:http';
import type { Dispatcher } from 'undici';
import type { Target } from './target.js';

/** What reply-from hands its undici instance for one request (see @fastify/reply-from lib/request.js). */
export interface ReplyFromRequest {
  origin: string;
  path: string;
  method: string;
  headers: Record<string, unknown>;
  body?: unknown;
  headersTimeout?: number;
  bodyTimeout?: number;
}

/**
 * What reply-from expects back. `headers` is always empty: the exchange keeps the upstream's
 * headers itself and writes them in pipeTo(); `stream` is the exchange, read by onResponse.
 */
export interface ReplyFromResponse {
  statusCode: number;
  headers: Record<string, string>;
  stream: UpstreamExchange;
}

export type ReplyFromCallback = (
  err: Error | null,
  res?: { statusCode: number; headers: Record<string, string>; body: UpstreamExchange },
) => void;

/** The request side the exchange serves: its current target, and a way to try another one. */
export interface ExchangeOwner {
  target: Target | null;
  /** a connect to the current target failed (counts towards taking it out of rotation) */
  connectFailed(): void;
  /** moves the request to another target for its one retry; null when there is none */
  retarget(): Target | null;
  /** the current target answered */
  connected(): void;
  /** set while the upstream response is being written, so a client that leaves can abort it */
  exchange: UpstreamExchange | null;
}

export interface Dispatch {
  dispatch(origin: string, opts: Dispatcher.DispatchOptions, handler: Dispatcher.DispatchHandler): void;
}

const CONNECT_ERRORS = new Set(['ECONNREFUSED', 'UND_ERR_CONNECT_TIMEOUT', 'EHOSTUNREACH', 'ENETUNREACH']);

/** True for errors raised before a connection to the upstream existed: the request never reached it. */
function isConnectError(err: Error): boolean {
  return CONNECT_ERRORS.has((err as NodeJS.ErrnoException).code ?? '');
}

/** Response headers that belong to the upstream connection, not to the client's. */
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'transfer-encoding', 'proxy-connection', 'upgrade']);

/** Only names of these lengths can be hop-by-hop; the others skip the lowercasing. */
const HOP_BY_HOP_LENGTHS = new Set([...HOP_BY_HOP].map((h) => h.length));

const NO_HEADERS: Record<string, string> = Object.freeze({}) as Record<string, string>;

const noop = (): void => {};

/** Drops header lines Node refuses to send (invalid names, control characters in values). */
function validHeaders(flat: string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < flat.length; i += 2) {
    try {
      http.validateHeaderName(flat[i]);
      http.validateHeaderValue(flat[i], flat[i + 1]);
      out.push(flat[i], flat[i + 1]);
    } catch {}
  }
  return out;
}

/**
 * One request to an upstream, as an undici dispatch handler: it hands the status and headers to
 * reply-from, then writes the body straight into the client's response (no intermediate stream),
 * honouring back-pressure both ways. A GET/HEAD whose connect fails is retried once on another
 * target that the owner picks.
 */
export class UpstreamExchange implements Dispatcher.DispatchHandler {
  private readonly pools: Dispatch;
  private readonly opts: Dispatcher.DispatchOptions;
  private readonly cb: ReplyFromCallback;
  private readonly owner: ExchangeOwner | null;
  private abortUpstream: ((err?: Error) => void) | null = null;
  /** undici's resume for this response (set with the headers); a drained client response calls it */
  private resumeUpstream: () => void = noop;
  private sink: http.ServerResponse | null = null;
  private started = false;
  /** response complete, failed or aborted: nothing more happens */
  private finished = false;
  private retried = false;
  private statusCode = 0;
  /** the upstream's response headers as [name, value, name, value, ...], hop-by-hop ones left out */
  private headers: string[] | null = null;

  constructor(pools: Dispatch, req: ReplyFromRequest, cb: ReplyFromCallback, owner: ExchangeOwner | null) {
    this.pools = pools;
    this.cb = cb;
    this.owner = owner;
    this.opts = {
      path: req.path,
      method: req.method as Dispatcher.HttpMethod,
      headers: req.headers as Record<string, string>,
      body: (req.body === '' ? null : req.body) as Dispatcher.DispatchOptions['body'],
      headersTimeout: req.headersTimeout,
      bodyTimeout: req.bodyTimeout,
    };
    if (owner) owner.exchange = this;
  }

  start(origin: string): void {
    this.pools.dispatch(origin, this.opts, this);
  }

  onConnect(abort: (err?: Error) => void): void {
    if (this.finished) abort(new Error('request aborted'));
    else this.abortUpstream = abort;
  }

  onHeaders(statusCode: number, raw: Buffer[], resume: () => void): boolean {
    if (statusCode < 200 || this.finished) return true;
    this.started = true;
    this.resumeUpstream = resume;
    this.owner?.connected();
    const headers: string[] = [];
    for (let i = 0; i < raw.length; i += 2) {
      const name = raw[i].toString('latin1');
      if (HOP_BY_HOP_LENGTHS.has(name.length) && HOP_BY_HOP.has(name.toLowerCase())) continue;
      headers.push(name, raw[i + 1].toString('latin1'));
    }
    this.statusCode = statusCode;
    this.headers = headers;
    // reply-from passes the headers through rewriteHeaders (which keeps them off the reply), then
    // calls the proxy's onResponse, which attaches the client's response with pipeTo() - all
    // before this returns
    this.cb(null, { statusCode, headers: NO_HEADERS, body: this });
    return this.sink === null || !this.sink.writableNeedDrain;
  }

  onData(chunk: Buffer): boolean {
    const sink = this.sink;
    if (sink === null) return true;
    if (sink.write(chunk)) return true;
    sink.once('drain', this.resumeUpstream);
    return false;
  }

  onComplete(): void {
    if (this.finished) return;
    this.finished = true;
    this.detach();
    this.sink?.end();
  }

  onError(err: Error): void {
    if (this.finished) return;
    if (!this.started) {
      if (isConnectError(err) && this.owner) {
        this.owner.connectFailed();
        const idempotent = this.opts.body == null && (this.opts.method === 'GET' || this.opts.method === 'HEAD');
        const next = idempotent && !this.retried ? this.owner.retarget() : null;
        if (next) {
          this.retried = true;
          this.abortUpstream = null;
          this.start(next.origin);
          return;
        }
      }
      this.finished = true;
      this.detach();
      this.cb(err);
      return;
    }
    this.finished = true;
    this.detach();
    this.sink?.destroy(err);
  }

  /**
   * Writes the upstream response into the client's response, which fastify stops handling
   * (hijack). The client connection is closed after it when its request body was not read to
   * the end (the upstream answered early), since it cannot be reused then.
   */
  pipeTo(reply: { sent: boolean; raw: http.ServerResponse; request: { raw: http.IncomingMessage }; hijack(): unknown }): void {
    if (this.finished) return;
    const headers = this.headers;
    if (reply.sent || headers === null) {
      this.destroy();
      return;
    }
    reply.hijack();
    const res = reply.raw;
    this.sink = res;
    if (!reply.request.raw.complete) headers.push('connection', 'close');
    try {
      res.writeHead(this.statusCode, headers);
    } catch {
      res.writeHead(this.statusCode, validHeaders(headers));
    }
  }

  /** Stops the upstream request (the client went away, or no reply is wanted). */
  destroy(): void {
    if (this.finished) return;
    this.finished = true;
    this.detach();
    const abort = this.abortUpstream;
    this.abortUpstream = null;
    abort?.(new Error('client went away'));
  }

  private detach(): void {
    if (this.owner && this.owner.exchange === this) this.owner.exchange = null;
  }
}
