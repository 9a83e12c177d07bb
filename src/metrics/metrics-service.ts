import { formatMetricsListen, type MetricsListen, parseMetricsListen } from '../config/metrics-listen.js';
import type { AccessEntry } from '../proxy/edge/request-figures.js';
import type { ContainerSampler, ProcessUsage } from './container-sampler.js';
import type { MetricsEndpoint, ProxyFiguresSource } from './metrics-endpoint.js';
import { MetricsErrors } from './metrics-errors.js';
import type { AppTraffic, RequestWindow } from './request-window.js';

/** One row of ps:top: an app's process type, its containers' usage and (web) its traffic over the last minute. */
export interface TopRow extends ProcessUsage {
  /** null for process types the proxy does not route to */
  traffic: AppTraffic | null;
}

export interface GlobalSettings {
  get(key: string): string | undefined;
  set(key: string, value: string): void;
}

export interface AccessLogSource extends ProxyFiguresSource {
  accessLog(app: string, since: number, limit: number): Promise<AccessEntry[]>;
}

export interface MetricsServiceDeps {
  sampler: ContainerSampler;
  window: RequestWindow;
  proxy: AccessLogSource;
  /** the endpoint; it listens only once start() ran (in `paas server`, not in a local `paas admin`) */
  endpoint: MetricsEndpoint;
  settings: GlobalSettings;
  /** --metrics-listen / PAAS_METRICS_LISTEN: used until metrics:set listen stores another */
  flagListen: MetricsListen;
}

const LISTEN_KEY = 'metrics.listen';

/** What ps:top, logs --proxy and metrics:set ask of the metrics feature. */
export class MetricsService {
  private started = false;

  constructor(private readonly d: MetricsServiceDeps) {}

  /** Where the endpoint should listen: the stored setting, else the server flag. */
  configuredListen(): MetricsListen {
    const stored = this.d.settings.get(LISTEN_KEY);
    const parsed = stored === undefined ? null : parseMetricsListen(stored);
    return parsed !== null && typeof parsed !== 'string' ? parsed : this.d.flagListen;
  }

  /** Starts the endpoint where configured; a failure is returned (the server runs on without it). */
  async start(): Promise<Error | null> {
    this.started = true;
    return this.d.endpoint.listen(this.configuredListen()).then(
      () => null,
      (err: Error) => err,
    );
  }

  /** metrics:set listen ADDR: moves the live endpoint first (a failure changes nothing), then stores it. */
  async setListen(raw: string): Promise<{ listen: string; live: boolean }> {
    const parsed = parseMetricsListen(raw);
    if (typeof parsed === 'string') throw MetricsErrors.usage(parsed);
    if (this.started) await this.d.endpoint.listen(parsed);
    this.d.settings.set(LISTEN_KEY, formatMetricsListen(parsed));
    return { listen: formatMetricsListen(this.started ? this.d.endpoint.listening : parsed), live: this.started };
  }

  async stop(): Promise<void> {
    await this.d.endpoint.close();
  }

  /** metrics:set with a setting other than `listen`. */
  unknownSetting(key: string): never {
    throw MetricsErrors.usage(`unknown metrics setting '${key}' (settings: listen)`);
  }

  report(): { configured: string; listening: string | null } {
    return {
      configured: formatMetricsListen(this.configuredListen()),
      listening: this.started ? formatMetricsListen(this.d.endpoint.listening) : null,
    };
  }

  /**
   * ps:top: per app (those in `apps`) and process type, the containers' usage from a fresh
   * reading (two readings a second apart the first time, for CPU %), and for web the proxy's
   * traffic since about a minute ago.
   */
  async top(apps: ReadonlySet<string>): Promise<{ windowSeconds: number; rows: TopRow[] }> {
    const [figures] = await Promise.all([this.d.proxy.figures().catch(() => null), this.d.sampler.withRates()]);
    const traffic = figures ? this.d.window.traffic(figures) : { seconds: 0, apps: {} };
    const rows: TopRow[] = this.d.sampler
      .byProcess()
      .filter((p) => apps.has(p.app))
      .map((p) => ({ ...p, traffic: p.process === 'web' ? (traffic.apps[p.app] ?? emptyTraffic()) : null }));
    return { windowSeconds: Math.round(traffic.seconds), rows };
  }

  /** logs --proxy: the app's access log entries after `since` (epoch ms), the last `limit`. */
  accessLog(app: string, since: number, limit: number): Promise<AccessEntry[]> {
    return this.d.proxy.accessLog(app, since, limit);
  }
}

function emptyTraffic(): AppTraffic {
  return { requests: 0, requestsPerSecond: 0, p95Seconds: null, serverErrors: 0 };
}
