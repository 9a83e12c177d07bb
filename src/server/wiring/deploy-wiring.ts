import os from 'node:os';
import { BuildCgroups, layoutFromInfo } from '../../builders/build-cgroup.js';
import { selectBuilder } from '../../builders/select-builder.js';
import type { ControlPlaneKnobs } from '../../config/env-knobs.js';
import { loadImageConfig } from '../../config/image-config.js';
import type { DataPaths, ServerConfig } from '../../config/server-config.js';
import { NO_NOTIFICATIONS, type NotificationSink } from '../../contracts/notification-sink.js';
import type { ProxyPort, RolloutStore } from '../../deploy/adapter-interfaces.js';
import { AppLocks } from '../../deploy/app-locks.js';
import { AppSettingsStore } from '../../deploy/app-settings-store.js';
import { BuildLimiter } from '../../deploy/build-limiter.js';
import { BuildSlots } from '../../deploy/build-slots.js';
import { PushDeploy } from '../../deploy/push-deploy.js';
import { ReleaseManager } from '../../deploy/release-manager.js';
import { Rollout } from '../../deploy/rollout.js';
import { WarmReleases } from '../../deploy/warm-release.js';
import { ALLOWED_ROOTS_KEY, type AppBind, parseAllowedRoots } from '../../deploy/storage-mounts.js';
import type { Logger } from '../../log/logger.js';
import { AppHosts } from '../../services/app-hosts.js';
import type { State } from '../../state/state.js';
import type { RuntimeBundle } from './runtime-wiring.js';

/** The deploy pipeline: build, release, roll out health-gated, under one lock per app. */
export interface DeployBundle {
  locks: AppLocks;
  settings: AppSettingsStore;
  /** the hosts each app answers on, as the rollout routes them */
  hosts: AppHosts;
  rollout: Rollout;
  /** the previous release kept warm for an instant rollback */
  warm: WarmReleases;
  releaseManager: ReleaseManager;
  push: PushDeploy;
  /** every app's stored binds, for the nesting check of storage:mount and of every rollout */
  allBinds(): AppBind[];
  /** the build queue (metrics read its length) */
  buildSlots: BuildSlots;
}

export function wireDeploy(
  config: ServerConfig,
  paths: DataPaths,
  state: State,
  proxy: ProxyPort,
  rt: RuntimeBundle,
  knobs: ControlPlaneKnobs,
  log: Logger,
  notify: NotificationSink = NO_NOTIFICATIONS,
): DeployBundle {
  const locks = new AppLocks();
  const settings = new AppSettingsStore(state.appSettings);
  const hosts = new AppHosts({ domains: state.domains, apps: state.apps, globals: state.settings, defaultDomain: config.domain });
  const allBinds = (): AppBind[] => state.apps.list().flatMap((a) => settings.get(a.name, 'mounts').map((bind) => ({ app: a.name, bind })));
  const store: RolloutStore = {
    current: (app) => state.releases.current(app),
    formation: (app) => state.formation.all(app),
    hosts: (app) => hosts.hosts(app),
    settings: (app) => settings.snapshot(app),
    defaultMemory: () => rt.limits.defaultMemory(),
    storagePolicy: () => ({
      dataDir: config.dataDir,
      allowedRoots: parseAllowedRoots(state.settings.get(ALLOWED_ROOTS_KEY)),
      allBinds: allBinds(),
    }),
  };
  const warm = new WarmReleases({
    settings,
    globals: state.settings,
    releases: state.releases,
    runtime: rt.runtime,
    log: log.child({ module: 'warm-release' }),
  });
  const rollout = new Rollout(store, rt.runtime, proxy, log.child({ module: 'rollout' }), warm);
  const releaseManager = new ReleaseManager({
    releases: state.releases,
    formation: store.formation,
    settings: store.settings,
    rollout,
    runtime: rt.runtime,
    log: log.child({ module: 'releases' }),
    notify,
  });
  const builderDeps = { docker: rt.docker, log: log.child({ module: 'build' }), images: loadImageConfig() };
  const buildSlots = new BuildSlots({
    limits: () => rt.limits.buildLimits(),
    freeMemory: () => os.freemem(),
    memoryWaitMs: knobs.buildMemoryWaitMs,
    limiter: new BuildLimiter({
      cgroups: new BuildCgroups({ layout: async () => layoutFromInfo(await rt.engine()), log: log.child({ module: 'build-cgroups' }) }),
      timeoutMs: () => rt.limits.buildTimeoutMs(),
      hostDefaultMemory: () => rt.limits.defaultMemory(),
    }),
    checkDisk: (refused) => rt.disk.check(refused),
  });
  const push = new PushDeploy(
    state,
    settings,
    { select: (dir, forced, dockerfile) => selectBuilder(dir, forced, builderDeps, dockerfile) },
    releaseManager,
    paths.builds,
    log.child({ module: 'deploy' }),
    rt.labels,
    paths.releaseLog,
    buildSlots,
    (keyName) => state.keys.byName(keyName)?.role,
    notify,
  );
  return { locks, settings, hosts, rollout, warm, releaseManager, push, allBinds, buildSlots };
}
