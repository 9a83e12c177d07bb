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

/** The engine's facts paas asks once it answers: its data root and cgroup layout. */
export type EngineFacts = () => Promise<{ DockerRootDir?: string; CgroupVersion?: string; CgroupDriver?: string } | null>;

/** The Docker side: the engine client, containers, images, and the host limits that guard them. */
export interface RuntimeBundle {
  docker: Dockerode;
  runtime: ContainerRuntime;
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
  const runtime = new ContainerRuntime(docker, log.child({ module: 'runtime' }), {
    labels,
    ...(knobs.networkPool ? { networkPool: knobs.networkPool } : {}),
  });
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
  return { docker, runtime, images, engine, labels, limits, disk };
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
