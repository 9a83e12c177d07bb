import { commitHasFile, resolveRef } from '../../git/export-commit.js';
import type { RepoStore } from '../../git/repo-store.js';
import { certFor } from '../../https/tls-sync.js';
import type { DataPaths, ServerConfig } from '../../config/server-config.js';
import type { ControlPlaneKnobs } from '../../config/env-knobs.js';
import type { NotificationSink } from '../../contracts/notification-sink.js';
import type { ProxyPort } from '../../deploy/adapter-interfaces.js';
import { ImageRelease } from '../../deploy/image-release.js';
import type { Logger } from '../../log/logger.js';
import { ImageOwnership } from '../../runtime/image-ownership.js';
import { AppService } from '../../services/app-service.js';
import { BuilderService } from '../../services/builder-service.js';
import { ConfigService } from '../../services/config-service.js';
import { DeployService } from '../../services/deploy-service.js';
import { DomainService } from '../../services/domain-service.js';
import { FormationService } from '../../services/formation-service.js';
import { KeyService } from '../../services/key-service.js';
import { LogsService } from '../../services/logs-service.js';
import { PortService } from '../../services/port-service.js';
import { ProcessService } from '../../services/process-service.js';
import { ReleaseService } from '../../services/release-service.js';
import { SchedulerService } from '../../services/scheduler-service.js';
import { SettingsService } from '../../services/settings-service.js';
import { StorageService } from '../../services/storage-service.js';
import { type TrafficProxy, TrafficService } from '../../services/traffic-service.js';
import type { State } from '../../state/state.js';
import type { AddonsBundle } from './addons-wiring.js';
import type { AppLogsBundle } from './app-logs-wiring.js';
import { wireAddons } from './addons-wiring.js';
import { type CronBundle, wireCron } from './cron-wiring.js';
import type { DeployBundle } from './deploy-wiring.js';
import type { HttpsBundle } from './https-wiring.js';
import { GLOBAL_SCHEDULER_KEY, type RuntimeBundle } from './runtime-wiring.js';

/** The application services, one per area: what the commands call. */
export interface ServicesBundle extends AddonsBundle, CronBundle {
  apps: AppService;
  domains: DomainService;
  config: ConfigService;
  formation: FormationService;
  settings: SettingsService;
  builder: BuilderService;
  traffic: TrafficService;
  deploys: DeployService;
  releases: ReleaseService;
  processes: ProcessService;
  scheduler: SchedulerService;
  ports: PortService;
  storage: StorageService;
  logs: LogsService;
  keys: KeyService;
  /** listeners told the fingerprint of each removed SSH key (the SSH server closes its connections) */
  keyRemoved: Set<(fingerprint: string) => void>;
}

export interface ServicesInput {
  config: ServerConfig;
  paths: DataPaths;
  state: State;
  proxy: ProxyPort & TrafficProxy;
  rt: RuntimeBundle;
  pipeline: DeployBundle;
  https: HttpsBundle;
  repos: RepoStore;
  knobs: ControlPlaneKnobs;
  appLogs: AppLogsBundle;
  log: Logger;
  /** told backup.failed by the add-on scheduler */
  notify?: NotificationSink;
}

export function wireServices(i: ServicesInput): ServicesBundle {
  const { config, paths, state, proxy, rt, pipeline, https, repos, knobs, appLogs, log } = i;
  const { locks, settings, rollout, releaseManager } = pipeline;
  const { releases, formation } = state;
  const domains = new DomainService({
    domains: state.domains,
    apps: state.apps,
    releases,
    globals: state.settings,
    defaultDomain: config.domain,
    rollout,
    runtime: rt.runtime,
    proxy,
    locks,
    log: log.child({ module: 'domains' }),
    // url/urls say https for a host the proxy serves with a certificate (custom or Let's Encrypt)
    secure: (app, host) => certFor(state.certificates.forApp(app), host) !== undefined,
  });
  const formationService = new FormationService({ formation, releases, settings, rollout, locks });
  const settingsService = new SettingsService({
    settings,
    rollout,
    knownProcesses: (app) => formationService.knownProcesses(app),
    locks,
    globals: state.settings,
  });
  const builder = new BuilderService({
    settings: settingsService,
    store: settings,
    releases,
    globals: state.settings,
    headHasFile: async (app, file) => {
      const repo = repos.repoDir(app);
      const head = (await resolveRef(repo, 'refs/heads/main')) ?? (await resolveRef(repo, 'refs/heads/master'));
      return head === null ? null : commitHasFile(repo, head, file);
    },
    env: knobs.processEnv,
    limits: rt.limits,
  });
  const configService = new ConfigService({ config: state.config, releases, formation, settings, deriver: releaseManager, locks });
  const addons = wireAddons(paths, state, rt, { config: configService, locks, ...(i.notify ? { notify: i.notify } : {}) }, knobs, log);
  const apps = new AppService({
    apps: state.apps,
    releases,
    formation,
    repos,
    domains,
    rollout,
    runtime: rt.runtime,
    proxy,
    locks,
    appDirs: (app) => [paths.appStorage(app), paths.releaseLogDir(app), appLogs.store.dir(app)],
    detachAddons: (app) => addons.addons.detachApp(app),
    grant: (keyName, app) => {
      const key = state.keys.byName(keyName);
      if (key) state.keys.grant(key.id, [app]);
    },
    log: log.child({ module: 'apps' }),
    afterDestroy: () => https.tls.sync(),
  });
  const keyRemoved = new Set<(fingerprint: string) => void>();
  const processes = new ProcessService({ formation, releases, settings, activator: releaseManager, rollout, runtime: rt.runtime, locks });
  return {
    ...addons,
    ...wireCron(state, rt, pipeline, log, i.notify),
    apps,
    domains,
    config: configService,
    formation: formationService,
    settings: settingsService,
    builder,
    traffic: new TrafficService({ settings, proxy, log: log.child({ module: 'traffic' }) }),
    deploys: new DeployService({
      images: rt.images,
      ownership: new ImageOwnership(rt.docker),
      imageRelease: new ImageRelease({
        releases,
        formation,
        config: state.config,
        deploys: state.deploys,
        settings,
        images: rt.images,
        activator: releaseManager,
        ...(i.notify ? { notify: i.notify } : {}),
      }),
      push: pipeline.push,
      repoDir: (app) => repos.repoDir(app),
      urls: (app) => domains.urls(app),
      locks,
    }),
    releases: new ReleaseService({
      releases,
      config: state.config,
      formation,
      settings,
      deriver: releaseManager,
      runtime: rt.runtime,
      locks,
      warm: pipeline.warm,
      globals: state.settings,
      logPath: paths.releaseLog,
    }),
    processes,
    scheduler: new SchedulerService({
      settings,
      globals: state.settings,
      globalKey: GLOBAL_SCHEDULER_KEY,
      swarm: rt.swarm,
      runtime: rt.runtime,
      current: (app) => releases.current(app),
      isStopped: (app) => processes.isStopped(app),
      restart: (app, out, signal) => processes.restart(app, out, signal),
      locks,
    }),
    ports: new PortService({ settings, releases, deriver: releaseManager, images: rt.images, locks }),
    storage: new StorageService({
      settings: settingsService,
      dataDir: config.dataDir,
      globals: state.settings,
      allBinds: pipeline.allBinds,
    }),
    logs: new LogsService({
      releases,
      settings,
      rollout,
      runtime: rt.runtime,
      swarm: { onSwarm: (app) => rt.runtime.schedulerOf(app) === 'swarm', replicas: rt.runtime },
      ...appLogs,
    }),
    keys: new KeyService({
      keys: state.keys,
      apps: state.apps,
      transaction: (fn) => state.transaction(fn),
      onRemoved: (fingerprint) => {
        for (const fn of keyRemoved) fn(fingerprint);
      },
    }),
    keyRemoved,
  };
}
