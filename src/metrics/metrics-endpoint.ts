import fs from 'node:fs';
import http from 'node:http';
import net, { type AddressInfo } from 'node:net';
import { AggregatorRegistry, Registry } from 'prom-client';
import { formatMetricsListen, type MetricsListen } from '../config/metrics-listen.js';
import type { Logger } from '../log/logger.js';
import type { ProxyFigures } from '../proxy/edge/request-figures.js';
import { MetricsErrors } from './metrics-errors.js';
import { proxyMetricJson } from './proxy-metric-json.js';

/** Where the proxy's summed figures come from (its control socket). */
export interface ProxyFiguresSource {
  figures(): Promise<ProxyFigures>;
}

/** How long a scrape waits for the proxy before rendering without its figures. */
const PROXY_WAIT_MS = 2000;

/**
 * `/metrics` in the Prometheus text format: the control plane's registry plus the proxy's figures,
 * which the proxy keeps itself (so they survive control-plane restarts) and hands over its control
 * socket; prom-client renders both. Listens on a TCP address or a unix socket, can move while
 * running (metrics:set listen), and answers nothing but GET /metrics.
 */
export class MetricsEndpoint {
  private server: http.Server | null = null;
  private bound: MetricsListen = { kind: 'off' };

  constructor(
    private readonly registry: Registry,
    private readonly proxy: ProxyFiguresSource,
    /** work before each render (a fresh container reading; the ps:top window is fed too) */
    private readonly beforeRender: (figures: ProxyFigures | null) => Promise<void>,
    private readonly log: Logger,
  ) {}

  /** The text a scrape gets. */
  async render(): Promise<{ contentType: string; body: string }> {
    let timer: NodeJS.Timeout | undefined;
    const figures = await Promise.race([
      this.proxy.figures().catch((err) => {
        this.log.warn({ err: (err as Error).message }, 'proxy figures unavailable');
        return null;
      }),
      new Promise<null>((r) => {
        timer = setTimeout(() => r(null), PROXY_WAIT_MS);
      }),
    ]);
    clearTimeout(timer);
    await this.beforeRender(figures);
    const up = {
      name: 'paas_proxy_up',
      help: 'Whether the proxy answered this scrape',
      type: 'gauge',
      aggregator: 'sum',
      values: [{ value: figures ? 1 : 0, labels: {} }],
    };
    const proxy: Registry = AggregatorRegistry.aggregate([[up, ...(figures ? proxyMetricJson(figures) : [])]]);
    const merged = Registry.merge([this.registry, proxy]);
    return { contentType: merged.contentType, body: await merged.metrics() };
  }

  /** Where it listens now (`off` when it does not). */
  get listening(): MetricsListen {
    return this.bound;
  }

  /** The TCP port bound, when on TCP. */
  get port(): number | null {
    const a = this.server?.address();
    return a && typeof a === 'object' ? (a as AddressInfo).port : null;
  }

  /**
   * Listens at `where`, then stops listening where it did before; on failure the old listener
   * stays and a listenFailed error says why.
   */
  async listen(where: MetricsListen): Promise<void> {
    // already there: binding again would only collide with itself
    const same = formatMetricsListen(where) === formatMetricsListen(this.bound);
    if (this.server !== null && same && !(where.kind === 'tcp' && where.port === 0)) return;
    let next: http.Server | null = null;
    if (where.kind !== 'off') {
      next = http.createServer((req, res) => void this.handle(req, res));
      next.headersTimeout = 10_000;
      next.requestTimeout = 30_000;
      const server = next;
      try {
        if (where.kind === 'unix') await clearStaleSocket(where.path);
        await new Promise<void>((resolve, reject) => {
          server.once('error', reject);
          if (where.kind === 'unix') server.listen(where.path, () => resolve());
          else server.listen(where.port, where.host, () => resolve());
        });
        if (where.kind === 'unix') fs.chmodSync(where.path, 0o660);
      } catch (err) {
        server.close();
        const why = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
        throw MetricsErrors.listenFailed(`the metrics endpoint cannot listen on ${formatMetricsListen(where)}: ${why}`, err);
      }
    }
    await this.close();
    this.server = next;
    this.bound = where.kind === 'tcp' && where.port === 0 ? { ...where, port: this.port ?? 0 } : where;
    if (where.kind !== 'off') this.log.info({ listen: formatMetricsListen(this.bound) }, 'metrics endpoint listening');
  }

  async close(): Promise<void> {
    const s = this.server;
    const was = this.bound;
    this.server = null;
    this.bound = { kind: 'off' };
    if (s === null) return;
    await new Promise<void>((r) => {
      s.close(() => r());
      s.closeAllConnections();
    });
    if (was.kind === 'unix') fs.rmSync(was.path, { force: true });
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const path = (req.url ?? '').split('?')[0];
    if (path !== '/metrics') {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found: metrics are at /metrics\n');
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD', 'content-type': 'text/plain' }).end('method not allowed\n');
      return;
    }
    try {
      const { contentType, body } = await this.render();
      res.writeHead(200, { 'content-type': contentType, 'content-length': Buffer.byteLength(body) });
      res.end(req.method === 'HEAD' ? undefined : body);
    } catch (err) {
      this.log.error({ err: (err as Error).message }, 'rendering metrics failed');
      res.writeHead(500, { 'content-type': 'text/plain' }).end('metrics failed\n');
    }
  }
}

/**
 * Makes way for a unix socket at `file`: nothing there, or a socket nobody answers on (left by a
 * crash), which is removed. A file that is not a socket, or a socket something listens on (the
 * Docker engine's, another server's), is refused and left alone.
 */
async function clearStaleSocket(file: string): Promise<void> {
  let st: fs.Stats;
  try {
    st = fs.lstatSync(file);
  } catch {
    return;
  }
  if (!st.isSocket()) throw Object.assign(new Error(`${file} exists and is not a socket`), { code: 'EEXIST' });
  const live = await new Promise<boolean>((resolve) => {
    const c = net.connect(file, () => {
      c.destroy();
      resolve(true);
    });
    c.on('error', () => resolve(false));
  });
  if (live) throw Object.assign(new Error(`something already listens on ${file}`), { code: 'EADDRINUSE' });
  fs.rmSync(file, { force: true });
}
