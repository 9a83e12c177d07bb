import type { ServerConfig } from '../../config/server-config.js';
import type { Logger } from '../../log/logger.js';
import { ContainerEventCounts } from '../../metrics/container-events.js';
import { ContainerSampler } from '../../metrics/container-sampler.js';
import { controlPlaneRegistry } from '../../metrics/control-plane-metrics.js';
import { DeployOutcomes } from '../../metrics/deploy-outcomes.js';
import { MetricsEndpoint } from '../../metrics/metrics-endpoint.js';
import { type AccessLogSource, MetricsService } from '../../metrics/metrics-service.js';
import { RequestWindow } from '../../metrics/request-window.js';
import { containerUsage, runningAppContainers } from '../../runtime/container-usage.js';
import type { State } from '../../state/state.js';
import { packageVersion } from '../../util/package-info.js';
import type { DeployBundle } from './deploy-wiring.js';
import type { RuntimeBundle } from './runtime-wiring.js';

/** How often the control plane asks the proxy for its figures (the ps:top window's step). */
const WINDOW_STEP_MS = 10_000;

export interface MetricsBundle {
  metrics: MetricsService;
  /** starts what runs in the background of `paas server`: the ps:top window, crash and OOM counting */
  startBackground(signal: AbortSignal): void;
  /** what the dashboard's chart history samples */
  sampler: ContainerSampler;
  events: ContainerEventCounts;
}

/** The metrics feature: one registry, the container sampler, the proxy window, the endpoint. */
export function wireMetrics(
  config: ServerConfig,
  state: State,
  proxy: AccessLogSource,
  rt: RuntimeBundle,
  pipeline: DeployBundle,
  log: Logger,
): MetricsBundle {
  const mlog = log.child({ module: 'metrics' });
  const sampler = new ContainerSampler({
    running: () => runningAppContainers(rt.docker, rt.labels),
    usage: (id) => containerUsage(rt.docker, id),
  });
  const window = new RequestWindow();
  const isApp = (app: string) => state.apps.exists(app);
  const events = new ContainerEventCounts(isApp);
  const registry = controlPlaneRegistry({
    version: packageVersion(),
    deploys: new DeployOutcomes({
      after: (id) => state.deploys.after(id),
      timings: (app, release) => state.releases.get(app, release)?.timings,
    }),
    builds: () => pipeline.buildSlots.status(),
    certificates: () => state.certificates.all().map((c) => ({ names: c.names, notAfter: c.notAfter })),
    backups: () => state.addons.list().map((a) => ({ type: a.type, name: a.name, last: a.lastBackup })),
    events,
    sampler,
  });
  const endpoint = new MetricsEndpoint(
    registry,
    proxy,
    async () => {
      await sampler.sample().catch((err) => mlog.warn({ err: (err as Error).message }, 'container sampling failed'));
    },
    mlog,
  );
  const metrics = new MetricsService({ sampler, window, proxy, endpoint, settings: state.settings, flagListen: config.metricsListen });
  return {
    metrics,
    sampler,
    events,
    startBackground(signal) {
      events.start(rt.runtime, signal);
      const step = () =>
        void proxy.figures().then(
          (f) => window.add(f),
          () => {},
        );
      step();
      const timer = setInterval(step, WINDOW_STEP_MS);
      timer.unref();
      signal.addEventListener('abort', () => {
        clearInterval(timer);
        void metrics.stop();
      });
    },
  };
}
