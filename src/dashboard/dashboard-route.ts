import type { ProxyPort } from '../deploy/adapter-interfaces.js';
import type { Logger } from '../log/logger.js';
import type { DashboardSettings } from './dashboard-service.js';

/** The proxy service the dashboard is routed as: `_` cannot be in an app name, so no app can take it. */
export const DASHBOARD_SERVICE = 'paas_dashboard';

/**
 * Keeps the proxy's route for the dashboard host in step with the settings: the host goes to the
 * loopback listener while the dashboard is on, and the route is removed when it is off (the proxy
 * then answers that host as any unknown one). TLS follows through `syncTls` (the TLS state lists
 * the dashboard host when a stored certificate covers it).
 */
export class DashboardRoute {
  private port: number | null = null;

  constructor(
    private readonly deps: {
      proxy: ProxyPort;
      settings: () => DashboardSettings;
      syncTls: () => Promise<void>;
      log: Logger;
    },
  ) {}

  /** The listener is up on `port`: route to it. */
  attach(port: number): Promise<void> {
    this.port = port;
    return this.apply();
  }

  /** The listener is closing: nothing to route to (the route stays; the next start points it at the new port). */
  detach(): void {
    this.port = null;
  }

  async apply(): Promise<void> {
    const s = this.deps.settings();
    if (!s.enabled) {
      await this.deps.proxy
        .remove(DASHBOARD_SERVICE)
        .catch((err) => this.deps.log.debug({ err: (err as Error).message }, 'no dashboard route to remove'));
    } else if (this.port !== null) {
      await this.deps.proxy.deploy(DASHBOARD_SERVICE, {
        hosts: [s.host],
        targets: [`127.0.0.1:${this.port}`],
        healthCheck: { path: '/healthz', intervalMs: 30_000, timeoutMs: 2000 },
        deployTimeoutMs: 10_000,
        drainTimeoutMs: 1000,
      });
    }
    await this.deps.syncTls();
  }
}
