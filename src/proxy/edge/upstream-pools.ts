import type { Socket } from 'node:net';
import { StallWatch, type StallWatched } from '../routing/target-liveness.js';
import { UpstreamAgent } from '../upstream/upstream-agent.js';
import { exchangeOn } from './request-marks.js';

export interface UpstreamOptions {
  /** max connections per target and worker (keep-alive ones included) */
  connections: number;
  connectTimeoutMs: number;
  /** max idle time on the upstream connection while a request runs (waiting for headers, between body chunks) */
  headersTimeoutMs: number;
  /** kept for the option's name; the idle timeout above covers the body too */
  bodyTimeoutMs: number;
  keepAliveTimeoutMs: number;
  /** how long a request may wait for a free connection to its target before it is answered 503 */
  queueTimeoutMs: number;
}

/** how often idle pooled connections are checked: they close at most this late */
const SWEEP_MS = 250;

export const UPSTREAM_DEFAULTS: UpstreamOptions = {
  connections: 256,
  connectTimeoutMs: 5_000,
  headersTimeoutMs: 60_000,
  bodyTimeoutMs: 60_000,
  keepAliveTimeoutMs: 4_000,
  queueTimeoutMs: 10_000,
};

/**
 * Keep-alive connections to the targets: one Node http.Agent per target origin, created on first
 * use, closed when a drained target leaves. Node's client parser is used (not undici) because it
 * can read upstream responses leniently, as nginx does (bare-LF header lines, HTTP/1.0,
 * close-delimited bodies); requests from clients stay strictly parsed by the server.
 */
export class UpstreamPools {
  private readonly agents = new Map<string, UpstreamAgent>();
  private sweeping: NodeJS.Timeout | null = null;
  readonly opts: UpstreamOptions;
  /** requests waiting for a response that could move if their target vanished */
  readonly stalls = new StallWatch();

  constructor(opts: UpstreamOptions) {
    this.opts = opts;
  }

  agent(origin: string): UpstreamAgent {
    let agent = this.agents.get(origin);
    if (agent === undefined) {
      agent = new UpstreamAgent({
        connections: this.opts.connections,
        pooledIdleMs: this.opts.keepAliveTimeoutMs,
        activeIdleMs: this.opts.headersTimeoutMs,
      });
      this.agents.set(origin, agent);
      this.sweeping ??= setInterval(() => this.sweep(), SWEEP_MS).unref();
    }
    return agent;
  }

  /** Closes idle pooled connections whose time is up (upstream-agent.ts arms no timer per request). */
  private sweep(): void {
    const now = Date.now();
    for (const agent of this.agents.values()) agent.sweep(now);
    this.stalls.sweep(now, this.busy());
  }

  /** The exchanges running on busy connections (requests queued for a connection wait on the pool, not a target). */
  private *busy(): Generator<StallWatched> {
    for (const agent of this.agents.values()) {
      for (const list of Object.values(agent.sockets)) {
        for (const socket of list ?? []) {
          const ex = exchangeOn(socket as Socket);
          if (ex !== undefined) yield ex;
        }
      }
    }
  }

  /** Connections in use and idle per origin, for proxy:report. */
  connections(): Record<string, { active: number; idle: number; queued: number }> {
    const out: Record<string, { active: number; idle: number; queued: number }> = {};
    for (const [origin, agent] of this.agents) {
      const count = (m: NodeJS.ReadOnlyDict<unknown[]>) => Object.values(m).reduce((n, l) => n + (l?.length ?? 0), 0);
      out[origin] = { active: count(agent.sockets), idle: count(agent.freeSockets), queued: count(agent.requests) };
    }
    return out;
  }

  /** Stops using an origin: `force` fails its running requests at once, otherwise they finish first. */
  release(origin: string, force: boolean): void {
    const agent = this.agents.get(origin);
    if (!agent) return;
    this.agents.delete(origin);
    if (force) {
      agent.destroy();
      return;
    }
    // idle connections go now, busy ones when their request is done
    agent.keepSocketAlive = () => false;
    for (const list of Object.values(agent.freeSockets)) for (const s of list ?? []) s.destroy();
  }

  async close(): Promise<void> {
    if (this.sweeping !== null) clearInterval(this.sweeping);
    this.sweeping = null;
    for (const agent of this.agents.values()) agent.destroy();
    this.agents.clear();
  }
}
