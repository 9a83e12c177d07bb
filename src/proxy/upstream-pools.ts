import { Pool } from 'undici';
import type { Dispatcher } from 'undici';
import { type ExchangeOwner, type ReplyFromCallback, type ReplyFromRequest, UpstreamExchange } from './upstream-exchange.js';

/** Set on the request headers (rewriteRequestHeaders) to tell the pools whose request it is. */
export const kExchangeOwner = Symbol('paasExchangeOwner');

export interface UpstreamOptions {
  /** max keep-alive connections per target and worker */
  connections: number;
  pipelining: number;
  connectTimeoutMs: number;
  /** time to wait for the response headers */
  headersTimeoutMs: number;
  /** max idle time between two body chunks */
  bodyTimeoutMs: number;
  keepAliveTimeoutMs: number;
}

export const UPSTREAM_DEFAULTS: UpstreamOptions = {
  connections: 256,
  pipelining: 1,
  connectTimeoutMs: 5_000,
  headersTimeoutMs: 60_000,
  bodyTimeoutMs: 60_000,
  keepAliveTimeoutMs: 4_000,
};

/**
 * The undici "instance" handed to reply-from: one keep-alive Pool per target origin, created on
 * first use, closed when a drained target leaves, destroyed when its drain times out. Requests
 * go through an UpstreamExchange, which streams the response body straight to the client.
 */
export class UpstreamPools {
  private readonly pools = new Map<string, Pool>();
  private readonly opts: UpstreamOptions;

  constructor(opts: UpstreamOptions) {
    this.opts = opts;
  }

  request(req: ReplyFromRequest, cb: ReplyFromCallback): void {
    const owner = (req.headers[kExchangeOwner as unknown as string] as ExchangeOwner | undefined) ?? null;
    new UpstreamExchange(this, req, cb, owner).start(req.origin);
  }

  dispatch(origin: string, opts: Dispatcher.DispatchOptions, handler: Dispatcher.DispatchHandler): void {
    let pool = this.pools.get(origin);
    if (pool === undefined) pool = this.create(origin);
    pool.dispatch(opts, handler);
  }

  private create(origin: string): Pool {
    const o = this.opts;
    const pool = new Pool(origin, {
      connections: o.connections,
      pipelining: o.pipelining,
      connectTimeout: o.connectTimeoutMs,
      headersTimeout: o.headersTimeoutMs,
      bodyTimeout: o.bodyTimeoutMs,
      keepAliveTimeout: o.keepAliveTimeoutMs,
    });
    this.pools.set(origin, pool);
    return pool;
  }

  /** Stops using an origin: `force` fails its running requests at once, otherwise they finish first. */
  release(origin: string, force: boolean): void {
    const pool = this.pools.get(origin);
    if (!pool) return;
    this.pools.delete(origin);
    const done = force ? pool.destroy() : pool.close();
    done.catch(() => {});
  }

  async close(): Promise<void> {
    const all = [...this.pools.values()];
    this.pools.clear();
    await Promise.allSettled(all.map((p) => p.destroy()));
  }
}
