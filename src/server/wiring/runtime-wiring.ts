import type Dockerode from 'dockerode';
import type { ControlPlaneKnobs } from '../../config/env-knobs.js';
import type { ServerConfig } from '../../config/server-config.js';
import { DiskFloor } from '../../deploy/disk-floor.js';
import { HostLimits } from '../../deploy/host-limits.js';
import { formatMemory } from '../../deploy/resource-limits.js';
import type { Logger } from '../../log/logger.js';
import { ContainerRuntime } from '../../runtime/container-runtime.js';
import { DockerClient } from '../../runtime/docker-client.js';
import { ImageStore } from '../../runtime/image-store.js';
import type { State } from '../../state/state.js';
import { AppSettingsStore } from '../../deploy/app-settings-store.js';
import type { SchedulerName } from '../../deploy/scheduler-port.js';
import { containerLogSource } from '../../runtime/log-stream.js';
import { LocalImageDistributor, RegistryImageDistributor, type RegistryPort } from '../../swarm/scheduler/image-distributor.js';
import { SchedulerRouter } from '../../swarm/scheduler/scheduler-router.js';
import { SwarmScheduler } from '../../swarm/scheduler/swarm-scheduler.js';

/** The global setting that names the scheduler of apps without their own (scheduler:set --global). */
export const GLOBAL_SCHEDULER_KEY = 'scheduler.default';

/** The engine's facts paas asks once it answers: its data root and cgroup layout. */
export type EngineFacts = () => Promise<{ DockerRootDir?: string; CgroupVersion?: string; CgroupDriver?: string } | null>;

/** The Docker side: the engine client, containers, images, and the host limits that guard them. */
export interface RuntimeBundle {
  docker: Dockerode;
  /** where replicas run: each app on its scheduler (local containers or Swarm services) */
  runtime: SchedulerRouter;
  /** the containers of this engine (one-offs, add-ons, local apps) */
  local: ContainerRuntime;
  swarm: SwarmScheduler;
  /** the registry the Swarm scheduler pushes release images to (the cluster wiring's) */
  useRegistry(registry: RegistryPort): void;
  images: ImageStore;
  engine: EngineFacts;
  /** extra labels on everything paas creates (tests mark theirs) */
  labels: Record<string, string>;
  /** the global limits an admin sets, read at each use */
  limits: HostLimits;
  /** the free-disk floor, checked before pushes, uploads and builds write anything */
  disk: DiskFloor;
}

export function wireRuntime(config: ServerConfig, state: State, knobs: ControlPlaneKnobs, log: Logger): RuntimeBundle {
  const docker = new DockerClient(config.dockerHost ? undefined : { socketPath: '/var/run/docker.sock' });
  const labels = knobs.containerLabels;
  const local = new ContainerRuntime(docker, log.child({ module: 'runtime' }), {
    labels,
    ...(knobs.networkPool ? { networkPool: knobs.networkPool } : {}),
  });
  // the Swarm scheduler (src/swarm/scheduler); release images reach the nodes through paas's
  // registry once the cluster wiring hands it over (useRegistry), by their ID on a lone engine
  let registry: RegistryPort | null = null;
  const distributor = new RegistryImageDistributor(() => registry, new LocalImageDistributor(docker));
  const swarm = new SwarmScheduler(docker, distributor, log.child({ module: 'swarm' }), { labels });
  const appSettings = new AppSettingsStore(state.appSettings);
  const schedulerOf = (app: string): SchedulerName =>
    appSettings.get(app, 'scheduler') ?? (state.settings.get(GLOBAL_SCHEDULER_KEY) === 'swarm' ? 'swarm' : 'local');
  const runtime = new SchedulerRouter(local, swarm, schedulerOf, containerLogSource(docker));
  const engine = engineFacts(docker);
  const limits = new HostLimits(state.settings);
  const disk = new DiskFloor({
    floor: () => limits.uploadLimits().minFreeDiskBytes,
    places: async () => {
      // Docker's data root is on this host only when paas talks to the local socket
      const root = config.dockerHost ? null : ((await engine())?.DockerRootDir ?? null);
      return [{ what: 'the data dir', path: config.dataDir }, ...(root ? [{ what: "Docker's data root", path: root }] : [])];
    },
  });
  const images = new ImageStore(docker, log.child({ module: 'images' }), {
    cap: () => {
      const bytes = limits.uploadLimits().maxImageBytes;
      return bytes === null ? null : { bytes, text: formatMemory(bytes) };
    },
    beforeLoad: () => disk.check('the upload was refused'),
  });
  const useRegistry = (r: RegistryPort) => {
    registry = r;
  };
  return { docker, runtime, local, swarm, useRegistry, images, engine, labels, limits, disk };
}

/** `docker info`, asked once the engine answers (null until then). */
function engineFacts(docker: Dockerode): EngineFacts {
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
