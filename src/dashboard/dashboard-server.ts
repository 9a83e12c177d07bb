import type { FastifyInstance } from 'fastify';
import type { Logger } from '../log/logger.js';
import { type DashboardAppDeps, buildDashboardApp } from './dashboard-app.js';
import { prepareAssets } from './dashboard-assets.js';
import type { DashboardRoute } from './dashboard-route.js';

export interface DashboardServerOptions {
  app: Omit<DashboardAppDeps, 'assetsDir' | 'pages'>;
  route: Pick<DashboardRoute, 'attach' | 'detach'>;
  webDir: string;
  vendorDir: string;
  /** where the precompressed copies of the assets are made */
  cacheDir: string;
  /** 0: a free port */
  port: number;
  log: Logger;
}

/**
 * The dashboard's listener on 127.0.0.1 (only the proxy in front reaches it from outside), started
 * with `paas server` and routed by the proxy on the dashboard host.
 */
export class DashboardServer {
  private app: FastifyInstance | null = null;

  constructor(private readonly opts: DashboardServerOptions) {}

  async start(): Promise<number> {
    const { opts } = this;
    const assets = prepareAssets(opts.webDir, opts.vendorDir, opts.cacheDir);
    this.app = await buildDashboardApp({ ...opts.app, assetsDir: opts.cacheDir, pages: assets.pages });
    await this.app.listen({ host: '127.0.0.1', port: opts.port });
    const address = this.app.server.address();
    const port = typeof address === 'object' && address !== null ? address.port : opts.port;
    opts.log.info({ port, assetBytes: assets.bytes, compressedBytes: assets.compressedBytes }, 'dashboard listening');
    // not awaited: the server's start never waits on the proxy's health gate for the dashboard
    void opts.route.attach(port).catch((err) => opts.log.error({ err: (err as Error).message }, 'routing the dashboard host failed'));
    return port;
  }

  async close(): Promise<void> {
    this.opts.route.detach();
    const app = this.app;
    this.app = null;
    if (app) {
      // open event streams would hold close() until they end
      app.server.closeAllConnections?.();
      await app.close();
    }
  }
}
