import os from 'node:os';
import type Dockerode from 'dockerode';
import { DockerClient } from '../runtime/docker-client.js';
import { selectBuilder } from '../builders/select-builder.js';
import { loadImageConfig } from '../config/image-config.js';
import type { DataPaths, ServerConfig } from '../config/server-config.js';
import { AppLocks } from '../deploy/app-locks.js';
import { AppSettingsStore } from '../deploy/app-settings-store.js';
import { BuildCgroups, layoutFromInfo } from '../builders/build-cgroup.js';
import { BuildLimiter } from '../deploy/build-limiter.js';
import { BuildSlots } from '../deploy/build-slots.js';
import type { ProxyPort, RolloutStore } from '../deploy/adapter-interfaces.js';
import { DiskFloor } from '../deploy/disk-floor.js';
import { formatMemory } from '../deploy/resource-limits.js';
import { ImageRelease } from '../deploy/image-release.js';
import { PushDeploy } from '../deploy/push-deploy.js';
import { ReleaseManager } from '../deploy/release-manager.js';
import { Rollout } from '../deploy/rollout.js';
import { ALLOWED_ROOTS_KEY, type AppBind, parseAllowedRoots } from '../deploy/storage-mounts.js';
import { commitHasFile, resolveRef } from '../git/export-commit.js';
import { GitService } from '../git/git-service.js';
import type { Logger } from '../log/logger.js';
import { CommandHost } from '../plugin-host/command-host.js';
import { CommandRegistry } from '../plugin-host/command-registry.js';
import { ContainerRuntime } from '../runtime/container-runtime.js';
import { ImageOwnership } from '../runtime/image-ownership.js';
import { ImageStore } from '../runtime/image-store.js';
import { AcmeIssuer } from '../https/acme-issuer.js';
import { AddonContainers } from '../addons/addon-containers.js';
import { AddonDataService } from '../addons/addon-data-service.js';
import { AddonScheduler } from '../addons/addon-scheduler.js';
import { AddonService } from '../addons/addon-service.js';
import { AddonTargetService } from '../addons/addon-target-service.js';
import { AddonUpgradeService } from '../addons/addon-upgrade-service.js';
import { AppService } from '../services/app-service.js';
import { CertService } from '../https/cert-service.js';
import { BuilderService } from '../services/builder-service.js';
import { ConfigService } from '../services/config-service.js';
import { DeployService } from '../services/deploy-service.js';
import { DomainService } from '../services/domain-service.js';
import { FormationService } from '../services/formation-service.js';
import { KeyService } from '../services/key-service.js';
import { DEFAULT_ORDER_POLICY } from '../https/acme-order-gate.js';
import { LetsEncryptService } from '../https/letsencrypt-service.js';
import { LogsService } from '../services/logs-service.js';
import type { PluginApi } from '../plugin-host/plugin-api.js';
import { PortService } from '../services/port-service.js';
import { ProcessService } from '../services/process-service.js';
import { type TrafficProxy, TrafficService } from '../services/traffic-service.js';
import { ReleaseService } from '../services/release-service.js';
import { RenewalScheduler } from '../https/renewal-scheduler.js';
import { SettingsService } from '../services/settings-service.js';
import { StorageService } from '../services/storage-service.js';
import { certFor, type TlsProxyPort, TlsSync } from '../https/tls-sync.js';
import type { State } from '../state/state.js';
import { packageVersion } from '../util/package-info.js';
import { loadPlugins } from './load-plugins.js';

/** Every long-lived piece of the control plane, built once and wired here (no singletons). */
export interface ControlPlane {
  api: PluginApi;
  /** listeners told the fingerprint of each removed SSH key (the SSH server closes its connections) */
  keyRemoved: Set<(fingerprint: string) => void>;
  host: CommandHost;
  git: GitService;
  runtime: ContainerRuntime;
  rollout: Rollout;
  locks: AppLocks;
  /** sends the proxy its certificates (at start and after every change) */
  tls: TlsSync;
  /** Let's Encrypt renewals, started by the server (not by `paas admin`) */
  renewals: RenewalScheduler;
}

/**
 * The composition root of the control plane: the deploy pipeline over the runtime and the proxy,
 * then one application service per area over it, then the plugins' API and the command host.
 */
export async function buildControlPlane(
  config: ServerConfig,
  paths: DataPaths,
  state: State,
  proxy: ProxyPort & TlsProxyPort & TrafficProxy,
  log: Logger,
): Promise<ControlPlane> {
  const docker = new DockerClient(config.dockerHost ? undefined : { socketPath: '/var/run/docker.sock' });
  const labels = runtimeLabels();
  const pool = process.env.PAAS_NETWORK_POOL;
  const runtime = new ContainerRuntime(docker, log.child({ module: 'runtime' }), { ...labels, ...(pool ? { networkPool: pool } : {}) });
  // the engine's cgroup layout and data root, asked once it answers
  const engine = engineFacts(docker);
  const disk = new DiskFloor({
    floor: () => builderService.uploadLimits().minFreeDiskBytes,
    places: async () => {
      // Docker's data root is on this host only when paas talks to the local socket
      const root = config.dockerHost ? null : ((await engine())?.DockerRootDir ?? null);
      return [{ what: 'the data dir', path: config.dataDir }, ...(root ? [{ what: "Docker's data root", path: root }] : [])];
    },
  });
  const images = new ImageStore(docker, log.child({ module: 'images' }), {
    cap: () => {
      const bytes = builderService.uploadLimits().maxImageBytes;
      return bytes === null ? null : { bytes, text: formatMemory(bytes) };
    },
    beforeLoad: () => disk.check('the upload was refused'),
  });
  const locks = new AppLocks();
  const settings = new AppSettingsStore(state.appSettings);
  const formation = state.formation;
  const releases = state.releases;

  /** every app's stored binds, for the nesting check of storage:mount and of every rollout */
  const allBinds = (): AppBind[] => state.apps.list().flatMap((a) => settings.get(a.name, 'mounts').map((bind) => ({ app: a.name, bind })));

  // deploy pipeline
  let domains!: DomainService;
  const store: RolloutStore = {
    current: (app) => releases.current(app),
    formation: (app) => formation.all(app),
    hosts: (app) => domains.hosts(app),
    settings: (app) => settings.snapshot(app),
    defaultMemory: () => settingsService.defaultMemory(),
    storagePolicy: () => ({
      dataDir: config.dataDir,
      allowedRoots: parseAllowedRoots(state.settings.get(ALLOWED_ROOTS_KEY)),
      allBinds: allBinds(),
    }),
  };
  const rollout = new Rollout(store, runtime, proxy, log.child({ module: 'rollout' }));
  const releaseManager = new ReleaseManager({
    releases,
    formation: store.formation,
    settings: store.settings,
    rollout,
    runtime,
    log: log.child({ module: 'releases' }),
  });
  const builderDeps = { docker, log: log.child({ module: 'build' }), images: loadImageConfig() };
  let builderService!: BuilderService;
  const buildSlots = new BuildSlots({
    limits: () => builderService.limits(),
    freeMemory: () => os.freemem(),
    // how long a build waits for free memory above the floor (tests shorten it)
    memoryWaitMs: envMs('PAAS_BUILD_MEMORY_WAIT_MS', 60_000),
    limiter: new BuildLimiter({
      cgroups: new BuildCgroups({ layout: async () => layoutFromInfo(await engine()), log: log.child({ module: 'build-cgroups' }) }),
      timeoutMs: () => builderService.buildTimeoutMs(),
      hostDefaultMemory: () => settingsService.defaultMemory(),
    }),
    checkDisk: (refused) => disk.check(refused),
  });
  const push = new PushDeploy(
    state,
    settings,
    { select: (dir, forced, dockerfile) => selectBuilder(dir, forced, builderDeps, dockerfile) },
    releaseManager,
    paths.builds,
    log.child({ module: 'deploy' }),
    labels.labels,
    paths.releaseLog,
    buildSlots,
    (keyName) => state.keys.byName(keyName)?.role,
  );

  // application services, one per area
  domains = new DomainService({
    domains: state.domains,
    apps: state.apps,
    releases,
    globals: state.settings,
    defaultDomain: config.domain,
    rollout,
    runtime,
    proxy,
    locks,
    log: log.child({ module: 'domains' }),
    // url/urls say https for a host the proxy serves with a certificate (custom or Let's Encrypt)
    secure: (app, host) => certFor(state.certificates.forApp(app), host) !== undefined,
  });
  // HTTPS: certificates in SQLite, sent whole to the proxy; Let's Encrypt over ACME http-01
  const tls = new TlsSync({ certs: state.certificates, hosts: (app) => domains.hosts(app), proxy, log: log.child({ module: 'tls' }) });
  const certs = new CertService({ certs: state.certificates, hosts: (app) => domains.hosts(app), sync: tls });
  const letsencrypt = new LetsEncryptService({
    acme: state.acme,
    certs: state.certificates,
    globals: state.settings,
    hosts: (app) => domains.hosts(app),
    issuer: new AcmeIssuer({
      accountDir: paths.acme,
      proxy,
      log: log.child({ module: 'acme' }),
      timeoutMs: envMs('PAAS_ACME_TIMEOUT_MS', 30_000),
      caPem: config.acmeCaPem,
      pollMs: envMs('PAAS_ACME_POLL_MS', 1000),
    }),
    sync: tls,
    defaults: { directoryUrl: config.acmeDirectory, email: config.acmeEmail },
    retryBaseMs: envMs('PAAS_ACME_RETRY_BASE_MS', 5 * 60_000),
    orderPolicy: { ...DEFAULT_ORDER_POLICY, forceSpacingMs: envMs('PAAS_ACME_FORCE_SPACING_MS', DEFAULT_ORDER_POLICY.forceSpacingMs) },
    log: log.child({ module: 'letsencrypt' }),
  });
  const renewals = new RenewalScheduler(
    letsencrypt,
    { intervalMs: envMs('PAAS_ACME_RENEW_INTERVAL_MS', 3_600_000), firstDelayMs: envMs('PAAS_ACME_RENEW_FIRST_MS', 60_000) },
    log.child({ module: 'renewals' }),
  );
  let apps!: AppService;
  const git = new GitService({
    reposDir: paths.repos,
    hooksDir: paths.hooks,
    onPush: (session, req, out) => push.handle(session, req, out),
    ensureApp: async (app, by) => apps.ensure(app, by),
    appExists: (app) => state.apps.exists(app),
    audit: (e) => state.events.record(e),
    withPushLock: (app, onWait, signal, fn) => locks.withLock(app, 'a git push', fn, onWait, signal),
    maxPushBytes: () => builderService.uploadLimits().maxPushBytes,
    beforePush: () => disk.check('the push was refused'),
    log: log.child({ module: 'git' }),
  });
  let addons!: AddonService;
  apps = new AppService({
    apps: state.apps,
    releases,
    formation,
    repos: git,
    domains,
    rollout,
    runtime,
    proxy,
    locks,
    appDirs: (app) => [paths.appStorage(app), paths.releaseLogDir(app)],
    detachAddons: (app) => addons.detachApp(app),
    grant: (keyName, app) => {
      const key = state.keys.byName(keyName);
      if (key) state.keys.grant(key.id, [app]);
    },
    log: log.child({ module: 'apps' }),
    afterDestroy: () => tls.sync(),
  });
  const formationService = new FormationService({ formation, releases, settings, rollout, locks });
  const settingsService = new SettingsService({
    settings,
    rollout,
    knownProcesses: (app) => formationService.knownProcesses(app),
    locks,
    globals: state.settings,
  });
  builderService = new BuilderService({
    settings: settingsService,
    store: settings,
    releases,
    globals: state.settings,
    headHasFile: async (app, file) => {
      const repo = git.repoDir(app);
      const head = (await resolveRef(repo, 'refs/heads/main')) ?? (await resolveRef(repo, 'refs/heads/master'));
      return head === null ? null : commitHasFile(repo, head, file);
    },
    env: process.env,
    hostDefaultMemory: () => settingsService.defaultMemory(),
  });
  const keyRemoved = new Set<(fingerprint: string) => void>();
  const configService = new ConfigService({ config: state.config, releases, formation, settings, deriver: releaseManager, locks });
  const addonLog = log.child({ module: 'addons' });
  const addonContainers = new AddonContainers(docker, addonLog, labels.labels);
  addons = new AddonService({
    addons: state.addons,
    appExists: (app) => state.apps.exists(app),
    containers: addonContainers,
    networks: runtime,
    config: configService,
    locks,
    defaultImage: (t) => process.env[t.imageEnv] || t.defaultImage,
    log: addonLog,
  });
  const addonTargets = new AddonTargetService({ addons: state.addons, service: addons });
  const addonData = new AddonDataService({
    addons: state.addons,
    service: addons,
    containers: addonContainers,
    backupsDir: paths.addonBackups,
    offsite: (row, file) => addonTargets.upload(row, file),
    log: addonLog,
  });
  const addonSchedule = new AddonScheduler({ addons: state.addons, service: addons, data: addonData, log: addonLog });
  const api: PluginApi = {
    version: packageVersion(),
    apps,
    traffic: new TrafficService({ settings, proxy, log: log.child({ module: 'traffic' }) }),
    config: configService,
    deploys: new DeployService({
      images,
      ownership: new ImageOwnership(docker),
      imageRelease: new ImageRelease({
        releases,
        formation,
        config: state.config,
        deploys: state.deploys,
        settings,
        images,
        activator: releaseManager,
      }),
      push,
      repoDir: (app) => git.repoDir(app),
      urls: (app) => domains.urls(app),
      locks,
    }),
    releases: new ReleaseService({
      releases,
      config: state.config,
      formation,
      settings,
      deriver: releaseManager,
      runtime,
      locks,
      logPath: paths.releaseLog,
    }),
    formation: formationService,
    processes: new ProcessService({ formation, releases, settings, activator: releaseManager, rollout, runtime, locks }),
    domains,
    ports: new PortService({ settings, releases, deriver: releaseManager, images, locks }),
    certs,
    letsencrypt,
    settings: settingsService,
    builder: builderService,
    storage: new StorageService({ settings: settingsService, dataDir: config.dataDir, globals: state.settings, allBinds }),
    logs: new LogsService({ releases, settings, rollout, runtime }),
    keys: new KeyService({
      keys: state.keys,
      apps: state.apps,
      transaction: (fn) => state.transaction(fn),
      onRemoved: (fingerprint) => {
        for (const fn of keyRemoved) fn(fingerprint);
      },
    }),
    addons,
    addonData,
    addonSchedule,
    addonTargets,
    addonUpgrade: new AddonUpgradeService({
      addons: state.addons,
      service: addons,
      data: addonData,
      containers: addonContainers,
      appNetwork: (app) => runtime.appNetwork(app),
      log: addonLog,
    }),
  };
  const commands = new CommandRegistry(await loadPlugins());
  const host = new CommandHost({
    commands,
    api,
    appExists: (app) => state.apps.exists(app),
    audit: (e) => state.events.record(e),
    log: log.child({ module: 'commands' }),
  });
  return { api, keyRemoved, host, git, runtime, rollout, locks, tls, renewals };
}

/** `docker info`, asked once the engine answers (null until then). */
function engineFacts(docker: Dockerode): () => Promise<{ DockerRootDir?: string; CgroupVersion?: string; CgroupDriver?: string } | null> {
  let info: Promise<Record<string, string> | null> | null = null;
  return async () => {
    info ??= docker.info().then(
      (i: Record<string, string>) => i,
      () => null,
    );
    const got = await info;
    if (got === null) info = null;
    return got;
  };
}

/** A duration in ms from the environment (tests shorten ACME timeouts and renewal checks), else `fallback`. */
function envMs(name: string, fallback: number): number {
  const v = process.env[name];
  return v && /^\d+$/.test(v) ? Number(v) : fallback;
}

/** Extra labels on everything paas creates; tests set PAAS_CONTAINER_LABELS=paas.test=1 to clean up by label. */
function runtimeLabels(): { labels: Record<string, string> } {
  const raw = process.env.PAAS_CONTAINER_LABELS ?? '';
  const labels: Record<string, string> = {};
  for (const pair of raw.split(',').filter(Boolean)) {
    const [k, v = ''] = pair.split('=');
    labels[k] = v;
  }
  return { labels };
}
