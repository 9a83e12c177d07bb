import Dockerode from 'dockerode';
import { selectBuilder } from '../builders/select-builder.js';
import { loadImageConfig } from '../config/image-config.js';
import type { DataPaths, ServerConfig } from '../config/server-config.js';
import { AppLocks } from '../deploy/app-locks.js';
import { AppManager } from '../deploy/app-manager.js';
import type { ProxyPort } from '../deploy/ports.js';
import { OperationsManager } from '../deploy/operations.js';
import { PushDeploy } from '../deploy/push-deploy.js';
import { ReleaseManager } from '../deploy/release-manager.js';
import { Rollout } from '../deploy/rollout.js';
import { GitService } from '../git/git-service.js';
import { HookServer } from '../git/hook-server.js';
import type { Logger } from '../log/logger.js';
import { CommandHost } from '../plugin-host/command-host.js';
import { CommandRegistry } from '../plugin-host/command-registry.js';
import type { Services } from '../plugin-host/services.js';
import { TriggerBus } from '../plugin-host/trigger-bus.js';
import { ContainerRuntime } from '../runtime/container-runtime.js';
import type { State } from '../state/state.js';
import { loadPlugins } from './load-plugins.js';
import { packageVersion } from './package-info.js';

/** Every long-lived piece of the control plane, built once and wired here (no singletons). */
export interface ControlPlane {
  services: Services;
  host: CommandHost;
  git: GitService;
  hookServer: HookServer;
  runtime: ContainerRuntime;
  rollout: Rollout;
  releases: ReleaseManager;
  apps: AppManager;
  locks: AppLocks;
  docker: Dockerode;
}

export async function buildControlPlane(
  config: ServerConfig,
  paths: DataPaths,
  state: State,
  proxy: ProxyPort,
  log: Logger,
): Promise<ControlPlane> {
  const docker = new Dockerode(config.dockerHost ? undefined : { socketPath: '/var/run/docker.sock' });
  const labels = runtimeLabels();
  const runtime = new ContainerRuntime(docker, log.child({ module: 'runtime' }), labels);
  const domain = () => state.settings.get('domain') ?? config.domain;
  const locks = new AppLocks();
  const rollout = new Rollout(state, runtime, proxy, domain, log.child({ module: 'rollout' }));
  const releases = new ReleaseManager(state, rollout, runtime, log.child({ module: 'releases' }));
  const images = loadImageConfig();
  const builderDeps = { docker, log: log.child({ module: 'build' }), images };
  const push = new PushDeploy(
    state,
    { select: (dir, forced) => selectBuilder(dir, forced, builderDeps) },
    releases,
    paths.builds,
    log.child({ module: 'deploy' }),
    labels.labels,
    config.dataDir,
  );
  const hookServer = new HookServer(
    paths.hookSocket,
    (session, req, out) => push.handle(session, req, out),
    log.child({ module: 'hooks' }),
  );
  let apps!: AppManager;
  const git = new GitService({
    reposDir: paths.repos,
    hooksDir: paths.hooks,
    hookSocket: paths.hookSocket,
    hookServer,
    ensureApp: (app) => apps.ensure(app),
    withPushLock: (app, onWait, signal, fn) => locks.withLock(app, 'a git push', fn, onWait, signal),
    log: log.child({ module: 'git' }),
  });
  apps = new AppManager(state, git, runtime, proxy, rollout, locks, log.child({ module: 'apps' }), config.dataDir);
  const operations = new OperationsManager(state, runtime, rollout, releases, locks, apps, log.child({ module: 'operations' }));
  const triggers = new TriggerBus(log.child({ module: 'triggers' }));
  const registry = new CommandRegistry(await loadPlugins(), triggers);
  const services: Services = {
    state,
    registry,
    triggers,
    version: packageVersion(),
    domain,
    apps,
    operations,
    dataDir: config.dataDir,
  };
  const host = new CommandHost(registry, services, log.child({ module: 'commands' }));
  return { services, host, git, hookServer, runtime, rollout, releases, apps, locks, docker };
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
