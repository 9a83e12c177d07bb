import http from 'node:http';

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
  private readonly agents = new Map<string, http.Agent>();
  readonly opts: UpstreamOptions;

  constructor(opts: UpstreamOptions) {
    this.opts = opts;
  }

  agent(origin: string): http.Agent {
    let agent = this.agents.get(origin);
    if (agent === undefined) {
      agent = new http.Agent({
        keepAlive: true,
        maxSockets: this.opts.connections,
        maxFreeSockets: this.opts.connections,
        scheduling: 'lifo',
        timeout: this.opts.keepAliveTimeoutMs,
      });
      this.agents.set(origin, agent);
    }
    return agent;
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
    for (const agent of this.agents.values()) agent.destroy();
    this.agents.clear();
  }
}
