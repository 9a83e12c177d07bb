import http from 'node:http';
import type { Socket } from 'node:net';
import { connectionTokens, HOP_BY_HOP } from './hop-by-hop.js';
import type { RequestBody } from './request-body.js';
import { markRequest } from './request-marks.js';
import type { StallWatched } from '../routing/target-liveness.js';
import type { Target } from '../routing/target.js';
import { rawHeader } from '../upstream/raw-headers.js';
import { upstreamRequest } from '../upstream/upstream-request.js';
import type { UpstreamPools } from './upstream-pools.js';

/** The request side the exchange serves: its current target, and a way to try another one. */
export interface ExchangeOwner {
  target: Target | null;
  /** a connect to the current target failed (counts towards taking it out of rotation) */
  connectFailed(): void;
  /** moves the request to another target for its one retry; null when there is none */
  retarget(): Target | null;
  /** the current target answered */
  connected(): void;
  /** whether another target could take the request */
  canMove?(): boolean;
  /** the target stopped accepting connections (found by the stall watch): out of the rotation */
  targetGone?(): void;
  /** set while the exchange runs, so a client that leaves can abort it */
  exchange: UpstreamExchange | null;
}

/**
 * How an exchange fails: before any response, with the page status the client is to be answered
 * with; after the response started (the upstream reset or went idle past the timeout mid-body),
 * with status 0: the client connection has been cut already, there is nothing left to answer.
 */
export type ExchangeFailure = (status: number, reason: string, err?: Error) => void;

export interface ExchangeRequest {
  method: string;
  path: string;
  /** the headers sent upstream, as [name, value, name, value, ...] */
  headers: string[];
  /** the client's body (Content-Length or chunked), null when it has none */
  body: RequestBody | null;
  /** response headers the proxy adds (HSTS), as [name, value, ...]; one the upstream sends itself wins */
  responseExtra?: readonly string[];
}

const CONNECT_ERRORS = new Set(['ECONNREFUSED', 'PAAS_CONNECT_TIMEOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'PAAS_TARGET_GONE']);

/** Response headers that belong to the upstream connection, not to the client's. */
const HOP = new Set<string>(HOP_BY_HOP);
/** Only names of these lengths can be hop-by-hop; the others skip the lowercasing. */
const HOP_LENGTHS = new Set(HOP_BY_HOP.map((h) => h.length));

/** The response headers to pass on: hop-by-hop ones and those the upstream's Connection header names are left out. */
export function responseHeaders(raw: string[]): string[] {
  let named: Set<string> | null = null;
  for (let i = 0; i < raw.length; i += 2) {
    // "Connection: keep-alive" names a header dropped anyway: only other names make the slow path below
    if (raw[i].length === 10 && raw[i].toLowerCase() === 'connection') named = connectionTokens(raw[i + 1], HOP);
  }
  const out: string[] = [];
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i];
    if (HOP_LENGTHS.has(name.length) || named !== null) {
      const lower = name.toLowerCase();
      if (HOP.has(lower) || named?.has(lower)) continue;
    }
    out.push(name, raw[i + 1]);
  }
  return out;
}

/** `headers` with those of `extra` the upstream did not send itself (names compared case-insensitively). */
export function withExtra(headers: string[], extra: readonly string[] | undefined): string[] {
  if (extra === undefined || extra.length === 0) return headers;
  for (let j = 0; j < extra.length; j += 2) {
    if (rawHeader(headers, extra[j].toLowerCase()) === undefined) headers.push(extra[j], extra[j + 1]);
  }
  return headers;
}

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

function hasQueue(agent: http.Agent): boolean {
  for (const _ in agent.requests) return true;
  return false;
}

/** The error of a request whose target stopped accepting connections while it waited (a vanished host). */
const gone = () => Object.assign(new Error('target stopped accepting connections'), { code: 'PAAS_TARGET_GONE' });

function errorCode(err: Error): string {
  return (err as NodeJS.ErrnoException).code ?? '';
}

/**
 * One request to an upstream over Node's http client: sends the client's body up (a RequestBody,
 * which counts it against the limit), streams the response down, with back-pressure both ways. A GET/HEAD whose connect
 * fails moves once to another target the owner picks; one whose reused keep-alive connection was
 * closed under it is sent again once. Waiting for a free connection is bounded (queueTimeoutMs).
 */
export class UpstreamExchange implements StallWatched {
  private readonly pools: UpstreamPools;
  private readonly client: http.IncomingMessage;
  private readonly res: http.ServerResponse;
  private readonly req: ExchangeRequest;
  private readonly owner: ExchangeOwner;
  private readonly fail: ExchangeFailure;
  private upstream: http.ClientRequest | null = null;
  private timer: NodeJS.Timeout | null = null;
  private started = false;
  /** response complete, failed or aborted: nothing more happens */
  finished = false;
  private retried = false;
  /** followed by the stall watch (target-liveness.ts): waiting for a response, could still move */
  watching = false;
  watchedSince = 0;

  constructor(
    pools: UpstreamPools,
    client: http.IncomingMessage,
    res: http.ServerResponse,
    req: ExchangeRequest,
    owner: ExchangeOwner,
    fail: ExchangeFailure,
  ) {
    this.pools = pools;
    this.client = client;
    this.res = res;
    this.req = req;
    this.owner = owner;
    this.fail = fail;
    owner.exchange = this;
  }

  start(target: Target): void {
    const opts = this.pools.opts;
    const agent = this.pools.agent(target.origin);
    const up = upstreamRequest(agent, target.host, target.port, this.req.method, this.req.path, this.req.headers);
    this.upstream = up;
    this.watching = !this.retried && this.idempotent();
    if (this.watching) this.watchedSince = Date.now();
    markRequest(up, this);
    up.on('socket', (socket) => this.onSocket(up, socket));
    up.on('response', (r) => this.onResponse(up, r));
    up.on('error', (err) => this.onUpstreamError(up, err));
    // a request the agent queued (every connection busy) waits for one for at most queueTimeoutMs
    if (opts.queueTimeoutMs > 0 && hasQueue(agent)) {
      this.timer = setTimeout(
        () => this.onUpstreamError(up, Object.assign(new Error('no free upstream connection'), { code: 'PAAS_QUEUE_TIMEOUT' })),
        opts.queueTimeoutMs,
      );
    }
    if (this.req.body === null) up.end();
    else this.req.body.pipeTo(up);
  }

  private onSocket(up: http.ClientRequest, socket: Socket): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    if (!socket.connecting) return;
    const ms = this.pools.opts.connectTimeoutMs;
    const t = setTimeout(() => {
      if (socket.connecting)
        this.onUpstreamError(up, Object.assign(new Error(`connect timed out after ${ms} ms`), { code: 'PAAS_CONNECT_TIMEOUT' }));
    }, ms);
    socket.once('connect', () => clearTimeout(t));
    socket.once('close', () => clearTimeout(t));
  }

  private onResponse(up: http.ClientRequest, r: http.IncomingMessage): void {
    if (this.finished || up !== this.upstream) {
      r.resume();
      return;
    }
    this.started = true;
    this.watching = false;
    this.owner.connected();
    const res = this.res;
    const headers = withExtra(responseHeaders(r.rawHeaders), this.req.responseExtra);
    if (!this.client.complete) {
      // the upstream answered before the body was read to the end: the client connection cannot be reused
      res.shouldKeepAlive = false;
    }
    try {
      res.writeHead(r.statusCode ?? 502, headers);
    } catch {
      res.writeHead(r.statusCode ?? 502, validHeaders(headers));
    }
    r.on('data', (chunk: Buffer) => {
      if (!res.write(chunk)) {
        r.pause();
        res.once('drain', () => r.resume());
      }
    });
    // `on`, not `once` (no wrapper per listener): each handler is a no-op once the exchange finished
    r.on('end', () => {
      if (this.finished) return;
      this.finished = true;
      this.detach();
      res.end();
    });
    r.on('error', (err) => this.onUpstreamError(up, err));
    // the upstream connection closed before the end of the body: a reset, as Node's own 'error' says
    r.on('aborted', () => this.onUpstreamError(up, Object.assign(new Error('upstream response aborted'), { code: 'ECONNRESET' })));
  }

  private onUpstreamError(up: http.ClientRequest, err: Error): void {
    if (this.finished || up !== this.upstream) return;
    const code = errorCode(err);
    up.destroy();
    if (this.started) {
      // the response is half written: the client can only learn it from a cut connection
      this.finished = true;
      this.detach();
      this.res.destroy(err);
      this.fail(0, err.message, err);
      return;
    }
    const idempotent = this.idempotent();
    if (CONNECT_ERRORS.has(code)) {
      this.owner.connectFailed();
      const next = idempotent && !this.retried ? this.owner.retarget() : null;
      if (next) {
        this.retried = true;
        this.start(next);
        return;
      }
    } else if (idempotent && !this.retried && code === 'ECONNRESET' && up.reusedSocket && this.owner.target) {
      // a kept-alive connection the upstream closed just as it was reused: send again on a new one
      this.retried = true;
      this.start(this.owner.target);
      return;
    } else if (idempotent && !this.retried && code === 'ECONNRESET' && this.owner.target?.expired !== true) {
      // a new connection closed before any response: the target is dying (a killed task behind a
      // Swarm host-mode port is accepted by docker-proxy, then cut), as nginx's proxy_next_upstream
      // error: another target gets the request (not one the drain timeout cut: that answers 504)
      this.owner.connectFailed();
      const next = this.owner.retarget();
      if (next) {
        this.retried = true;
        this.start(next);
        return;
      }
    }
    const expired = this.owner.target?.expired === true;
    if (code === 'PAAS_QUEUE_TIMEOUT') this.end(503, err.message, err);
    else this.end(expired || code === 'PAAS_TIMEOUT' ? 504 : 502, err.message, err);
  }

  get watchTarget(): Target | null {
    return this.owner.target;
  }

  canMove(): boolean {
    return this.owner.canMove?.() ?? false;
  }

  /** The stall watch found the target gone: the request moves to another (as a failed connect would). */
  targetGone(): void {
    const up = this.upstream;
    if (this.finished || up === null) return;
    this.owner.targetGone?.();
    this.onUpstreamError(up, gone());
  }

  private idempotent(): boolean {
    return this.req.body === null && (this.req.method === 'GET' || this.req.method === 'HEAD');
  }

  private end(status: number, reason: string, err?: Error): void {
    if (this.finished) return;
    this.finished = true;
    this.detach();
    this.req.body?.stop();
    this.fail(status, reason, err);
  }

  private abortUpstream(): void {
    const up = this.upstream;
    this.upstream = null;
    if (up !== null && !up.destroyed) up.destroy();
  }

  /** Stops the upstream request (the client went away, or no reply is wanted). */
  destroy(): void {
    if (this.finished) return;
    this.finished = true;
    this.detach();
    this.req.body?.stop();
    this.abortUpstream();
  }

  private detach(): void {
    this.watching = false;
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    if (this.owner.exchange === this) this.owner.exchange = null;
  }
}
