import net from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { UpstreamAgent } from '../upstream/upstream-agent.js';
import { upstreamRequest } from '../upstream/upstream-request.js';
import type { HealthCheckSpec } from './service-spec.js';

/**
 * The agent every HTTP health check of this process goes through: an UpstreamAgent like the
 * proxied requests' (upstream-request.ts says why it must be the same class). A check asks for
 * `Connection: close`, so nothing is pooled; the idle limit only backs up the check's own timeout.
 */
const CHECKS = new UpstreamAgent({ connections: 64, pooledIdleMs: 1_000, activeIdleMs: 10 * 60_000 });

/** The Host header Node's client would send: [v6] in brackets, the port unless it is 80. */
function hostHeader(host: string, port: number): string {
  return `${host.includes(':') ? `[${host}]` : host}${port === 80 ? '' : `:${port}`}`;
}

interface HealthCheckResult {
  healthy: boolean;
  /** the last probe's outcome, e.g. "HTTP 200", "HTTP 500", "connect ECONNREFUSED", "timed out after 5000 ms" */
  detail: string;
  probes: number;
}

function splitAddress(address: string): { host: string; port: number } {
  const i = address.lastIndexOf(':');
  let host = address.slice(0, i);
  if (host.startsWith('[') && host.endsWith(']')) host = host.slice(1, -1);
  return { host, port: Number(address.slice(i + 1)) };
}

/**
 * Probes one target until it is healthy or the deadline passes: HTTP GET on the path (healthy on
 * the first 2xx) or, without a path, a TCP connect.
 */
export class HealthCheck {
  readonly address: string;
  private readonly spec: HealthCheckSpec;

  constructor(address: string, spec: HealthCheckSpec) {
    this.address = address;
    this.spec = spec;
  }

  async waitHealthy(deadline: number, signal?: AbortSignal): Promise<HealthCheckResult> {
    let probes = 0;
    let detail = 'not probed';
    for (;;) {
      if (signal?.aborted) return { healthy: false, detail: 'aborted', probes };
      const remaining = deadline - Date.now();
      if (remaining <= 0 && probes > 0) return { healthy: false, detail, probes };
      const started = Date.now();
      const timeout = Math.max(1, Math.min(this.spec.timeoutMs, remaining));
      const r = await this.probe(timeout);
      probes++;
      if (r.ok) return { healthy: true, detail: r.detail, probes };
      // a probe the deadline cut short says little: the last whole probe's outcome is the reason
      if (timeout >= this.spec.timeoutMs || probes === 1) detail = r.detail;
      // fast start: 50, 100, 200, 400, 800 ms between the first probes, then every intervalMs, so a
      // target that is up within milliseconds goes live without waiting a whole interval
      const wait = Math.min(this.spec.intervalMs, 50 * 2 ** (probes - 1)) - (Date.now() - started);
      if (Date.now() + Math.max(0, wait) >= deadline) return { healthy: false, detail, probes };
      if (wait > 0) await sleep(wait, undefined, { signal }).catch(() => {});
    }
  }

  probe(timeoutMs: number): Promise<{ ok: boolean; detail: string }> {
    return this.spec.path === null ? this.probeTcp(timeoutMs) : this.probeHttp(this.spec.path, timeoutMs);
  }

  private probeTcp(timeoutMs: number): Promise<{ ok: boolean; detail: string }> {
    const { host, port } = splitAddress(this.address);
    return new Promise((resolve) => {
      const socket = net.connect({ host, port });
      const timer = setTimeout(() => {
        socket.destroy();
        resolve({ ok: false, detail: `TCP connect timed out after ${timeoutMs} ms` });
      }, timeoutMs);
      socket.once('connect', () => {
        clearTimeout(timer);
        socket.destroy();
        resolve({ ok: true, detail: 'TCP connect ok' });
      });
      socket.once('error', (err: NodeJS.ErrnoException) => {
        clearTimeout(timer);
        resolve({ ok: false, detail: `TCP connect ${err.code ?? err.message}` });
      });
    });
  }

  private probeHttp(path: string, timeoutMs: number): Promise<{ ok: boolean; detail: string }> {
    const { host, port } = splitAddress(this.address);
    return new Promise((resolve) => {
      let settled = false;
      const done = (ok: boolean, detail: string) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        req.destroy();
        resolve({ ok, detail });
      };
      const req = upstreamRequest(CHECKS, host, port, 'GET', path, [
        'Host',
        hostHeader(host, port),
        'User-Agent',
        'paas-proxy-healthcheck',
        'Connection',
        'close',
      ]);
      req.on('response', (res) => {
        const code = res.statusCode ?? 0;
        res.resume();
        done(code >= 200 && code < 300, `HTTP ${code} on GET ${path}`);
      });
      const timer = setTimeout(() => done(false, `GET ${path} timed out after ${timeoutMs} ms`), timeoutMs);
      req.once('error', (err: NodeJS.ErrnoException) => done(false, `GET ${path} failed: ${err.code ?? err.message}`));
      req.end();
    });
  }
}
