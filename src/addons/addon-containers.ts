import type Dockerode from 'dockerode';
import type { Logger } from '../log/logger.js';
import { DROPPED_CAPABILITIES, hardeningHostConfig } from '../runtime/container-hardening.js';
import { type ExecIo, type ExecResult, execIn } from '../runtime/container-exec.js';
import { engineMessage, statusOf } from '../runtime/docker-error-details.js';
import { LogStream, type LogStreamOptions } from '../runtime/log-stream.js';
import { RuntimeErrors } from '../runtime/runtime-errors.js';

/** Labels of add-on containers and volumes: never `paas.app`, so app convergence leaves them alone. */
export const ADDON_LABELS = { type: 'paas.addon', name: 'paas.addon.name' } as const;

export interface AddonContainerSpec {
  /** container name, also its DNS alias on every network it joins */
  name: string;
  type: string;
  addon: string;
  image: string;
  env: Record<string, string>;
  command: string[] | null;
  volume: string;
  volumePath: string;
  /** app networks to join at creation (the links) */
  networks: string[];
  /** the container's memory limit (0: none) */
  memoryBytes: number;
}

/** An add-on container's memory limit unless `create`/`restart --memory` names another: room for a small database's caches. */
export const DEFAULT_ADDON_MEMORY_BYTES = 1024 ** 3;

export interface AddonContainerState {
  id: string;
  status: string;
  running: boolean;
  image: string;
  startedAt: string | null;
  networks: string[];
  restartCount: number;
  /** whether it runs with the app containers' hardening (a container made before it does not) */
  hardened: boolean;
  /** its memory limit (0: none) */
  memoryBytes: number;
}

/** Docker's network mode of a container on no network: it has only its loopback. */
const NO_NETWORK = 'none';

/**
 * Add-on containers (databases) through the Docker Engine API: one named volume each, a restart
 * policy, no published port, joined to the networks of the apps linked to them. Knows nothing of
 * apps or config: the add-on service decides what runs where.
 */
export class AddonContainers {
  constructor(
    private readonly docker: Dockerode,
    private readonly log: Logger,
    private readonly extraLabels: Record<string, string> = {},
  ) {}

  private labels(type: string, addon: string): Record<string, string> {
    return { ...this.extraLabels, [ADDON_LABELS.type]: type, [ADDON_LABELS.name]: addon };
  }

  /** The image, pulled when it is not on this host (an official image on first use). */
  async ensureImage(image: string): Promise<void> {
    try {
      await this.docker.getImage(image).inspect();
      return;
    } catch (e) {
      if (statusOf(e) !== 404) throw RuntimeErrors.docker(`cannot inspect image ${image}: ${engineMessage(e)}`, e);
    }
    this.log.info({ image }, 'pulling add-on image');
    try {
      const stream = await this.docker.pull(image);
      await new Promise<void>((resolve, reject) =>
        this.docker.modem.followProgress(stream, (err: Error | null) => (err ? reject(err) : resolve())),
      );
    } catch (e) {
      throw RuntimeErrors.imageMissing(`image ${image} is not on this host and cannot be pulled: ${engineMessage(e)}`, e);
    }
  }

  async volumeExists(name: string): Promise<boolean> {
    try {
      await this.docker.getVolume(name).inspect();
      return true;
    } catch (e) {
      if (statusOf(e) === 404) return false;
      throw RuntimeErrors.docker(`cannot inspect volume ${name}: ${engineMessage(e)}`, e);
    }
  }

  async createVolume(name: string, type: string, addon: string): Promise<void> {
    try {
      await this.docker.createVolume({ Name: name, Labels: this.labels(type, addon) });
    } catch (e) {
      throw RuntimeErrors.docker(`cannot create volume ${name}: ${engineMessage(e)}`, e);
    }
  }

  /** Removes a volume; one already gone is fine. */
  async removeVolume(name: string): Promise<void> {
    try {
      await this.docker.getVolume(name).remove();
    } catch (e) {
      if (statusOf(e) !== 404) throw RuntimeErrors.docker(`cannot remove volume ${name}: ${engineMessage(e)}`, e);
    }
  }

  /** Creates and starts the container; on failure nothing is left behind. */
  async start(spec: AddonContainerSpec): Promise<AddonContainerState> {
    const [first, ...rest] = spec.networks;
    let container: Dockerode.Container;
    try {
      container = await this.docker.createContainer({
        name: spec.name,
        Image: spec.image,
        Env: Object.entries(spec.env).map(([k, v]) => `${k}=${v}`),
        ...(spec.command ? { Cmd: spec.command } : {}),
        Labels: this.labels(spec.type, spec.addon),
        HostConfig: {
          Binds: [`${spec.volume}:${spec.volumePath}`],
          RestartPolicy: { Name: 'unless-stopped' },
          // no link yet: no network at all (loopback only), never Docker's shared default bridge
          NetworkMode: first ?? NO_NETWORK,
          // the app containers' hardening (no-new-privileges, capabilities dropped, a pids limit) and a
          // memory limit: a linked app that got a shell in it would gain nothing an app lacks
          ...hardeningHostConfig({}),
          Memory: spec.memoryBytes,
          LogConfig: { Type: 'json-file', Config: { 'max-size': '10m', 'max-file': '3' } },
        },
        ...(first ? { NetworkingConfig: { EndpointsConfig: { [first]: { Aliases: [spec.name] } } } } : {}),
      });
    } catch (e) {
      throw RuntimeErrors.startFailed(`cannot create container ${spec.name}: ${engineMessage(e)}`, e);
    }
    try {
      for (const n of rest) await this.connect(spec.name, n);
      await container.start();
    } catch (e) {
      await container.remove({ force: true }).catch(() => {});
      throw RuntimeErrors.startFailed(`cannot start container ${spec.name}: ${engineMessage(e)}`, e);
    }
    this.log.info({ addon: spec.addon, type: spec.type, container: spec.name, image: spec.image }, 'add-on container started');
    return (await this.inspect(spec.name))!;
  }

  async inspect(name: string): Promise<AddonContainerState | null> {
    let c: Dockerode.ContainerInspectInfo;
    try {
      c = await this.docker.getContainer(name).inspect();
    } catch (e) {
      if (statusOf(e) === 404) return null;
      throw RuntimeErrors.docker(`cannot inspect container ${name}: ${engineMessage(e)}`, e);
    }
    const started = c.State.StartedAt;
    return {
      id: c.Id,
      status: c.State.Status,
      running: c.State.Running && !c.State.Restarting,
      image: c.Config.Image,
      startedAt: started && !started.startsWith('0001-') ? started : null,
      networks: Object.keys(c.NetworkSettings.Networks ?? {}),
      restartCount: c.RestartCount,
      hardened:
        DROPPED_CAPABILITIES.every((cap) => (c.HostConfig.CapDrop ?? []).some((d: string) => d.replace(/^CAP_/, '') === cap)) &&
        (c.HostConfig.PidsLimit ?? 0) > 0 &&
        (c.HostConfig.SecurityOpt ?? []).some((o: string) => o.startsWith('no-new-privileges')),
      memoryBytes: c.HostConfig.Memory ?? 0,
    };
  }

  /** Joins an app network under the container's own name (leaving 'none' first); already joined is fine. */
  async connect(name: string, network: string): Promise<void> {
    try {
      const joined = (await this.inspect(name))?.networks ?? [];
      if (joined.includes(NO_NETWORK)) await this.docker.getNetwork(NO_NETWORK).disconnect({ Container: name, Force: true });
      await this.docker.getNetwork(network).connect({ Container: name, EndpointConfig: { Aliases: [name] } });
    } catch (e) {
      if (statusOf(e) === 403 && /already exists/i.test(engineMessage(e))) return;
      throw RuntimeErrors.docker(`cannot connect ${name} to network ${network}: ${engineMessage(e)}`, e);
    }
  }

  /** Leaves an app network, back to 'none' when it was the last one; not joined (or gone) is fine. */
  async disconnect(name: string, network: string): Promise<void> {
    try {
      await this.docker.getNetwork(network).disconnect({ Container: name, Force: true });
      const left = await this.inspect(name);
      if (left && left.networks.length === 0) await this.docker.getNetwork(NO_NETWORK).connect({ Container: name });
    } catch (e) {
      const st = statusOf(e);
      if (st === 404 || (st === 500 && /not connected/i.test(engineMessage(e)))) return;
      throw RuntimeErrors.docker(`cannot disconnect ${name} from network ${network}: ${engineMessage(e)}`, e);
    }
  }

  async stop(name: string): Promise<void> {
    try {
      await this.docker.getContainer(name).stop({ t: 30 });
    } catch (e) {
      const st = statusOf(e);
      if (st !== 304 && st !== 404) throw RuntimeErrors.docker(`cannot stop ${name}: ${engineMessage(e)}`, e);
    }
  }

  async startExisting(name: string): Promise<void> {
    try {
      await this.docker.getContainer(name).start();
    } catch (e) {
      if (statusOf(e) !== 304) throw RuntimeErrors.startFailed(`cannot start ${name}: ${engineMessage(e)}`, e);
    }
  }

  async restart(name: string): Promise<void> {
    try {
      await this.docker.getContainer(name).restart({ t: 30 });
    } catch (e) {
      throw RuntimeErrors.docker(`cannot restart ${name}: ${engineMessage(e)}`, e);
    }
  }

  /** Stops and removes the container (its volume stays); gone is fine. */
  async remove(name: string): Promise<void> {
    try {
      await this.docker.getContainer(name).remove({ force: true });
    } catch (e) {
      if (statusOf(e) !== 404) throw RuntimeErrors.docker(`cannot remove ${name}: ${engineMessage(e)}`, e);
    }
  }

  exec(name: string, argv: string[], io: ExecIo = {}): Promise<ExecResult> {
    return execIn(this.docker.getContainer(name), argv, io);
  }

  /**
   * Runs `argv` in a throwaway container of `image`, with `volume` mounted if given (the
   * add-on's own container stopped): moving a restored file into place, or asking a new image
   * its version. Returns its exit code and output.
   */
  async runTool(image: string, volume: string | null, volumePath: string, argv: string[]): Promise<{ exitCode: number; output: string }> {
    const container = await this.docker.createContainer({
      Image: image,
      Entrypoint: [],
      Cmd: argv,
      Labels: { ...this.extraLabels, [ADDON_LABELS.type]: 'tool' },
      HostConfig: { Binds: volume ? [`${volume}:${volumePath}`] : [], NetworkMode: 'none', ...hardeningHostConfig({}) },
    });
    try {
      await container.start();
      const { StatusCode } = (await container.wait()) as { StatusCode: number };
      const logs = (await container.logs({ stdout: true, stderr: true })) as unknown as Buffer;
      return { exitCode: StatusCode, output: logs.toString('utf8').replace(/[\x00-\x08]/g, '') };
    } finally {
      await container.remove({ force: true }).catch(() => {});
    }
  }

  /** The container's log (the last `tail` lines; following until `signal` aborts). */
  logs(id: string, opts: LogStreamOptions, signal?: AbortSignal): LogStream {
    const s = new LogStream(this.docker, this.log, opts, signal);
    s.add(id);
    if (!opts.follow) s.closeWhenDrained();
    return s;
  }
}
