import { controlPlaneKnobs } from '../config/env-knobs.js';
import type { DataPaths, ServerConfig } from '../config/server-config.js';
import type { ProxyPort } from '../deploy/adapter-interfaces.js';
import type { AppLocks } from '../deploy/app-locks.js';
import type { Rollout } from '../deploy/rollout.js';
import type { WarmReleases } from '../deploy/warm-release.js';
import { GitService } from '../git/git-service.js';
import { RepoStore } from '../git/repo-store.js';
import type { RenewalScheduler } from '../https/renewal-scheduler.js';
import type { TlsProxyPort, TlsSync } from '../https/tls-sync.js';
import type { Logger } from '../log/logger.js';
import { CommandHost } from '../plugin-host/command-host.js';
import { CommandRegistry } from '../plugin-host/command-registry.js';
import type { PluginApi } from '../plugin-host/plugin-api.js';
import type { CommandCatalog } from '../plugin-host/plugin.js';
import type { AddonScheduler } from '../addons/addon-scheduler.js';
import type { CronScheduler } from '../cron/cron-scheduler.js';
import type { SchedulerRouter } from '../swarm/scheduler/scheduler-router.js';
import type { TrafficProxy } from '../services/traffic-service.js';
import type { State } from '../state/state.js';
import type { RegistryAccess } from '../swarm/registry/registry-access.js';
import type { RegistrySupervisor } from '../swarm/registry/registry-supervisor.js';
import { packageVersion } from '../util/package-info.js';
import { loadPlugins } from './load-plugins.js';
import { wireCluster } from './wiring/cluster-wiring.js';
import type { LogCollector } from '../app-logs/log-collector.js';
import { wireAppLogs } from './wiring/app-logs-wiring.js';
import { wireDeploy } from './wiring/deploy-wiring.js';
import { wireMetrics } from './wiring/metrics-wiring.js';
import type { AccessLogSource } from '../metrics/metrics-service.js';
import { wireHttps } from './wiring/https-wiring.js';
import { wireRuntime } from './wiring/runtime-wiring.js';
import { wireServices } from './wiring/services-wiring.js';
import type { NotificationService } from '../notifications/notification-service.js';
import { wireNotifications } from './wiring/notifications-wiring.js';
import { type DashboardBundle, wireDashboard } from './wiring/dashboard-wiring.js';

/** Every long-lived piece of the control plane, built once and wired here (no singletons). */
export interface ControlPlane {
  api: PluginApi;
  /** listeners told the fingerprint of each removed SSH key (the SSH server closes its connections) */
  keyRemoved: Set<(fingerprint: string) => void>;
  host: CommandHost;
  git: GitService;
  runtime: SchedulerRouter;
  rollout: Rollout;
  /** the previous release kept warm for an instant rollback (its window timers start with the background jobs) */
  warm: WarmReleases;
  locks: AppLocks;
  /** sends the proxy its certificates (at start and after every change) */
  tls: TlsSync;
  /** the jobs the server runs in the background (BackgroundJobs starts and stops them) */
  renewals: RenewalScheduler;
  addonSchedule: AddonScheduler;
  /** webhooks told about events; the sink the event watcher reports crashes to */
  notifications: NotificationService;
  cronScheduler: CronScheduler;
  /** Swarm: the registry's process (the server enables and stops it) and what pushes to it */
  registrySupervisor: RegistrySupervisor;
  registry: RegistryAccess;
  /** follows every app container's output into the kept logs (BackgroundJobs starts it) */
  logCollector: LogCollector;
  /** the ps:top window and crash counting, started by BackgroundJobs */
  metricsBackground: (signal: AbortSignal) => void;
  /** the web dashboard (its listener starts with `paas server`) */
  dashboard: DashboardBundle;
  /** the loaded commands (the dashboard checks its allowlist against them) */
  commands: CommandCatalog;
}

/**
 * The composition root of the control plane, one wiring function per feature, each returning a
 * typed bundle, in the order they need each other: the Docker runtime, the deploy pipeline over it
 * and the proxy, HTTPS, the application services (add-ons among them), then git, the plugins' API
 * and the command host. No forward declarations: each piece exists before anything uses it.
 */
export async function buildControlPlane(
  config: ServerConfig,
  paths: DataPaths,
  state: State,
  proxy: ProxyPort & TlsProxyPort & TrafficProxy & AccessLogSource,
  log: Logger,
): Promise<ControlPlane> {
  const knobs = controlPlaneKnobs();
  const notifications = wireNotifications(state, log);
  const rt = wireRuntime(config, state, knobs, log);
  const pipeline = wireDeploy(config, paths, state, proxy, rt, knobs, log, notifications);
  const https = wireHttps(config, paths, state, proxy, pipeline.hosts, knobs, log, notifications);
  const swarm = wireCluster(paths, state, rt, knobs, log);
  rt.useRegistry(swarm.registry);
  const metrics = wireMetrics(config, state, proxy, rt, pipeline, log);
  const repos = new RepoStore(paths.repos);
  const appLogs = wireAppLogs(paths, state, rt, knobs, log);
  const services = wireServices({ config, paths, state, proxy, rt, pipeline, https, repos, knobs, appLogs, log, notify: notifications });
  const dashboard = wireDashboard({
    config,
    paths,
    state,
    proxy,
    tls: https.tls,
    hosts: pipeline.hosts,
    keys: services.keys,
    keyRemoved: services.keyRemoved,
    metrics,
    pipeline,
    nodes: () => swarm.nodes.list(),
    knobs,
    log,
  });
  const git = new GitService({
    reposDir: paths.repos,
    hooksDir: paths.hooks,
    // the push's output also goes to the dashboard's live deploy log of the app
    onPush: (session, req, out) => dashboard.teePush(session.app, out, (o) => pipeline.push.handle(session, req, o)),
    ensureApp: (app, by) => services.apps.ensure(app, by),
    appExists: (app) => state.apps.exists(app),
    audit: (e) => state.events.record(e),
    withPushLock: (app, onWait, signal, fn) => pipeline.locks.withLock(app, 'a git push', fn, onWait, signal),
    maxPushBytes: () => rt.limits.uploadLimits().maxPushBytes,
    beforePush: () => rt.disk.check('the push was refused'),
    log: log.child({ module: 'git' }),
  });
  const { keyRemoved, cronScheduler, ...rest } = services;
  const api: PluginApi = {
    version: packageVersion(),
    ...rest,
    certs: https.certs,
    letsencrypt: https.letsencrypt,
    notifications,
    cluster: swarm.cluster,
    nodes: swarm.nodes,
    metrics: metrics.metrics,
    dashboard: dashboard.service,
  };
  const commands = new CommandRegistry(await loadPlugins());
  const host = new CommandHost({
    commands,
    api,
    appExists: (app) => state.apps.exists(app),
    audit: (e) => state.events.record(e),
    log: log.child({ module: 'commands' }),
  });
  return {
    api,
    keyRemoved,
    host,
    git,
    runtime: rt.runtime,
    rollout: pipeline.rollout,
    warm: pipeline.warm,
    locks: pipeline.locks,
    tls: https.tls,
    renewals: https.renewals,
    addonSchedule: services.addonSchedule,
    notifications,
    cronScheduler,
    registrySupervisor: swarm.registrySupervisor,
    registry: swarm.registry,
    logCollector: appLogs.collector,
    metricsBackground: (signal) => metrics.startBackground(signal),
    dashboard,
    commands,
  };
}
