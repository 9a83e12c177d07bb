import os from 'node:os';
import type Dockerode from 'dockerode';
import { AppError } from '../errors/app-error.js';
import type { Logger } from '../log/logger.js';
import { containerStats, type ContainerStats } from './container-stats.js';
import { appNetworkName, baseCreateOptions, containerName, LABELS, labelFilters, specLabels, validateSpec } from './container-naming.js';
import { type ContainerInfo, type ContainerSpec, DEFAULT_RESTART } from './container-spec.js';
import { engineMessage, statusOf } from './docker-error-details.js';
import { imageEntrypoint } from './entrypoint-command.js';
import { type DockerEvent, watchDockerEvents } from './docker-events.js';
import { demuxToLines } from './docker-frames.js';
import { type LogSource, LogStream, type LogStreamOptions } from './log-stream.js';
import { type OneOffIo, runOneOff } from './one-off-runner.js';
import { OwnContainerActions } from './own-container-actions.js';
import { sleep } from '../util/sleep.js';
import { type ListeningOptions, type ListeningResult, waitListening } from './port-listening.js';
import { RuntimeErrors } from './runtime-errors.js';
import { commitTask } from './task-commit.js';
import { DEFAULT_NETWORK_POOL, pickSubnet } from './subnet-pool.js';

export interface ContainerRuntimeOptions {
  /** the prefix of the per-app networks (`paas-<app>`), and the shared network of containers from before them; default 'paas' */
  network?: string;
  /** labels added to everything this runtime creates (networks, containers); tests add paas.test */
  labels?: Record<string, string>;
  /** run an init (docker-init/tini) as PID 1 so `sh -c` commands get signals; default true */
  init?: boolean;
  /** json-file log rotation per container; default 10m x 3 */
  logMaxSize?: string;
  logMaxFiles?: number;
  /** where app networks get their /24s (DEFAULT_NETWORK_POOL; env PAAS_NETWORK_POOL) */
  networkPool?: string;
}

/** Lines of container log kept in a boot-crash error. */
export const CRASH_LOG_LINES = 20;

/** A container that exited during boot: the message carries the exit code and the last log lines. */
export class ContainerCrashedError extends AppError {
  constructor(
    readonly containerName: string,
    readonly containerExitCode: number | null,
    readonly logTail: string[],
  ) {
    const code = containerExitCode === null ? 'restarting' : `exit code ${containerExitCode}`;
    const head = `container ${containerName} exited during boot (${code})`;
    const body = logTail.length ? `\nlast ${logTail.length} log lines:\n${logTail.map((l) => `  ${l}`).join('\n')}` : '\n(no log output)';
    super(RuntimeErrors.crashed.code, head + body);
  }
}

/**
 * Container lifecycle through the Docker Engine API. Knows nothing of git or routing: it is
 * given specs and returns addresses; the deploy pipeline and the proxy decide what to do.
 */
export class ContainerRuntime {
  readonly network: string;
  /** the events this runtime's own calls cause (isOwnEvent) */
  private readonly own = new OwnContainerActions();
  private readonly networksReady = new Map<string, Promise<void>>();
  private readonly extraLabels: Record<string, string>;

  constructor(
    private readonly docker: Dockerode,
    private readonly log: Logger,
    private readonly opts: ContainerRuntimeOptions = {},
  ) {
    this.network = opts.network ?? 'paas';
    this.extraLabels = opts.labels ?? {};
  }

  /** The bridge network of an app's containers (web, workers, one-offs, release tasks): `paas-<app>`. */
  appNetwork(app: string): string {
    return appNetworkName(this.network, app);
  }

  /**
   * Creates the app's bridge network (without an app: the shared network) once; concurrent and
   * repeated calls are safe. Docker's inter-bridge isolation keeps apps from reaching each other.
   */
  ensureNetwork(app?: string): Promise<void> {
    const name = app === undefined ? this.network : this.appNetwork(app);
    let ready = this.networksReady.get(name);
    if (!ready) {
      ready = this.createNetwork(name, app).catch((e) => {
        this.networksReady.delete(name);
        throw e;
      });
      this.networksReady.set(name, ready);
    }
    return ready;
  }

  private async createNetwork(name: string, app: string | undefined): Promise<void> {
    const existing = await this.docker.listNetworks({ filters: { name: [name] } }).catch((e) => {
      throw dockerError('cannot list Docker networks', e);
    });
    if (existing.some((n) => n.Name === name)) return;
    const labels = { ...this.extraLabels, [LABELS.managed]: '1', ...(app === undefined ? {} : { [LABELS.app]: app }) };
    // an app network gets a /24 of paas's own pool (Docker's defaults run out at about 30
    // networks); two networks created at once may pick the same one: the loser picks again. A
    // subnet the engine refuses as overlapping is not picked again: a bridge a dockerd restart left
    // behind (down, so not among the interfaces Node lists, and unknown to the engine) holds it
    const refused: string[] = [];
    for (let attempt = 0; ; attempt++) {
      const used = [...(await this.usedSubnets()), ...refused];
      const subnet = app === undefined ? null : pickSubnet(this.opts.networkPool ?? DEFAULT_NETWORK_POOL, used);
      try {
        await this.docker.createNetwork({
          Name: name,
          Driver: 'bridge',
          CheckDuplicate: true,
          Labels: labels,
          ...(subnet ? { IPAM: { Driver: 'default', Config: [{ Subnet: subnet }] } } : {}),
        });
        this.log.info({ network: name, subnet }, 'docker network created');
        return;
      } catch (e) {
        if (statusOf(e) === 409) return; // created concurrently
        if (subnet && attempt < 16 && /overlap/i.test(engineMessage(e))) {
          refused.push(subnet);
          continue;
        }
        throw dockerError(`cannot create Docker network ${name}`, e);
      }
    }
  }

  /** Subnets in use: every Docker network's, and the host's own interfaces'. */
  private async usedSubnets(): Promise<string[]> {
    const nets = await this.docker.listNetworks().catch((e) => {
      throw dockerError('cannot list Docker networks', e);
    });
    const docker = nets.flatMap((n) => (n.IPAM?.Config ?? []).map((c) => c.Subnet ?? '')).filter(Boolean);
    const host = Object.values(os.networkInterfaces())
      .flat()
      .flatMap((i) => (i && i.family === 'IPv4' && i.cidr ? [i.cidr] : []));
    return [...docker, ...host];
  }

  /**
   * Removes an app's network (apps:destroy, once its containers are gone). Never throws: a network
   * already gone is fine, and one still in use (another paas on this engine with an app of the same
   * name) is kept and logged. Returns whether it was removed.
   */
  async removeNetwork(app: string): Promise<boolean> {
    const name = this.appNetwork(app);
    this.networksReady.delete(name);
    try {
      await this.docker.getNetwork(name).remove();
      this.log.info({ network: name }, 'docker network removed');
      return true;
    } catch (e) {
      if (statusOf(e) !== 404) this.log.warn({ network: name, err: engineMessage(e) }, 'docker network not removed');
      return false;
    }
  }

  /** Creates and starts one container; on any failure nothing is left behind. */
  async start(spec: ContainerSpec): Promise<ContainerInfo> {
    validateSpec(spec);
    const network = this.appNetwork(spec.app);
    await this.ensureNetwork(spec.app);
    const entrypoint = await imageEntrypoint(this.docker, spec.image);
    const restart = { ...DEFAULT_RESTART, ...(spec.restart ?? {}) };
    const name = containerName(spec);
    const create = () => {
      const base = baseCreateOptions(spec, network, specLabels(spec, this.extraLabels), this.opts.init ?? true, entrypoint);
      return this.docker.createContainer({
        ...base,
        name,
        ExposedPorts: { [`${spec.port}/tcp`]: {} },
        HostConfig: {
          ...base.HostConfig,
          RestartPolicy:
            restart.policy === 'on-failure' ? { Name: 'on-failure', MaximumRetryCount: restart.maxRetries } : { Name: restart.policy },
          LogConfig: {
            Type: 'json-file',
            Config: { 'max-size': this.opts.logMaxSize ?? '10m', 'max-file': String(this.opts.logMaxFiles ?? 3) },
          },
        },
        NetworkingConfig: { EndpointsConfig: { [network]: { Aliases: [`${spec.app}.${spec.process}`] } } },
      });
    };
    let container: Dockerode.Container;
    try {
      container = await create().catch(async (e: unknown) => {
        // the network was removed behind our back (docker network prune): recreate it once
        if (statusOf(e) !== 404 || !/network .* not found/i.test(engineMessage(e))) throw e;
        this.networksReady.delete(network);
        await this.ensureNetwork(spec.app);
        return create();
      });
    } catch (e) {
      throw RuntimeErrors.startFailed(`cannot create container for ${spec.app} ${spec.process}: ${engineMessage(e)}`, e);
    }
    this.own.starting(container.id);
    try {
      await container.start();
    } catch (e) {
      this.own.claim(container.id);
      await container.remove({ force: true }).catch(() => {});
      throw RuntimeErrors.startFailed(`cannot start container ${name}: ${engineMessage(e)}`, e);
    }
    const info = await this.inspect(container.id);
    if (!info) throw RuntimeErrors.startFailed(`container ${name} vanished right after start`);
    this.log.info(
      { app: spec.app, process: spec.process, release: spec.release, replica: spec.replica, id: info.id, ip: info.ip },
      'container started',
    );
    return info;
  }

  /** Whether the image (tag or id) is on this host; an engine error other than 404 throws PAAS_ERR_RUNTIME_DOCKER. */
  async imageExists(image: string): Promise<boolean> {
    try {
      await this.docker.getImage(image).inspect();
      return true;
    } catch (e) {
      if (statusOf(e) === 404) return false;
      throw dockerError(`cannot inspect image ${image}`, e);
    }
  }

  /**
   * Resolves when the container is still running (not restarted) after `ms`; throws
   * ContainerCrashedError (PAAS_ERR_RUNTIME_CRASHED) with the exit code and last log lines if it exits.
   */
  async waitUp(id: string, ms: number, signal?: AbortSignal): Promise<void> {
    const first = await this.inspectRaw(id);
    if (!first) throw RuntimeErrors.notFound(`no container ${id}`);
    const startCount = first.RestartCount;
    const deadline = Date.now() + ms;
    for (;;) {
      if (signal?.aborted) throw RuntimeErrors.cancelled('cancelled while waiting for the container to boot');
      const c = await this.inspectRaw(id);
      if (!c) throw new ContainerCrashedError(id, null, ['(container was removed)']);
      const s = c.State;
      const crashed = !s.Running || s.Restarting || c.RestartCount > startCount || s.Status === 'exited' || s.Status === 'dead';
      if (crashed) {
        const lines = (await this.logsTail(id, CRASH_LOG_LINES).catch(() => '')).split('\n').filter((l) => l !== '');
        const exit = s.Running && !s.Restarting ? null : s.ExitCode;
        throw new ContainerCrashedError(c.Name.replace(/^\//, ''), exit, lines.slice(-CRASH_LOG_LINES));
      }
      const left = deadline - Date.now();
      if (left <= 0) return;
      await sleep(Math.min(200, left), signal);
    }
  }

  /** Waits until the container accepts connections on its port (port-listening.ts); a container without an address never does. */
  waitListening(c: Pick<ContainerInfo, 'ip' | 'port'>, opts: ListeningOptions): Promise<ListeningResult> {
    return c.ip ? waitListening(c.ip, c.port, opts) : Promise.resolve('deadline');
  }

  /** Freezes every process of the container (cgroup freezer): it keeps its memory and address, uses no CPU, answers nothing. */
  async pause(id: string): Promise<void> {
    try {
      await this.docker.getContainer(id).pause();
    } catch (e) {
      throw dockerError(`cannot pause container ${id}`, e);
    }
  }

  /** Thaws a paused container; one that is not paused is fine. */
  async unpause(id: string): Promise<void> {
    try {
      await this.docker.getContainer(id).unpause();
    } catch (e) {
      if (statusOf(e) === 409 && /not paused/i.test(engineMessage(e))) return;
      throw dockerError(`cannot unpause container ${id}`, e);
    }
  }

  /** Stops (SIGTERM, then SIGKILL after the grace) and removes; a container already gone is fine. */
  async stop(id: string, graceSeconds = 10): Promise<void> {
    this.own.claim(id);
    const c = this.docker.getContainer(id);
    // a frozen process never sees SIGTERM: thaw it first, or the stop always waits the whole grace
    if ((await this.inspectRaw(id).catch(() => null))?.State.Paused) await c.unpause().catch(() => undefined);
    try {
      await c.stop({ t: graceSeconds });
    } catch (e) {
      const st = statusOf(e);
      if (st === 404) return;
      if (st !== 304) this.log.warn({ id, err: engineMessage(e) }, 'container stop failed; removing by force');
    }
    try {
      await c.remove({ force: true, v: true });
    } catch (e) {
      const st = statusOf(e);
      if (st === 404 || (st === 409 && /already in progress/i.test(engineMessage(e)))) return;
      // it stays: what happens to it from now on is no longer paas's doing (a convergence removes it)
      this.own.forget(id);
      throw dockerError(`cannot remove container ${id}`, e);
    }
  }

  /** Containers managed by paas (any state), optionally narrowed by app, process and release. */
  async list(filter: { app?: string; process?: string; release?: number } = {}): Promise<ContainerInfo[]> {
    let entries: Dockerode.ContainerInfo[];
    try {
      // this runtime's extra labels scope what it sees: two paas installs (or test servers) on one
      // engine never take each other's containers for strays
      const own = Object.entries(this.extraLabels).map(([k, v]) => (v ? `${k}=${v}` : k));
      entries = await this.docker.listContainers({ all: true, filters: { label: [...labelFilters(filter), ...own] } });
    } catch (e) {
      throw dockerError('cannot list containers', e);
    }
    const infos = await Promise.all(entries.map((e) => this.inspect(e.Id)));
    return infos
      .filter((i): i is ContainerInfo => i !== null)
      .sort((a, b) => a.app.localeCompare(b.app) || a.process.localeCompare(b.process) || a.replica - b.replica || a.release - b.release);
  }

  async inspect(id: string): Promise<ContainerInfo | null> {
    const c = await this.inspectRaw(id);
    return c ? this.toInfo(c) : null;
  }

  private async inspectRaw(id: string): Promise<Dockerode.ContainerInspectInfo | null> {
    try {
      return await this.docker.getContainer(id).inspect();
    } catch (e) {
      if (statusOf(e) === 404) return null;
      throw dockerError(`cannot inspect container ${id}`, e);
    }
  }

  private toInfo(c: Dockerode.ContainerInspectInfo): ContainerInfo {
    const labels = c.Config.Labels ?? {};
    const nets = c.NetworkSettings.Networks ?? {};
    // the app's own network; containers from before per-app networks are on the shared one
    const ip = nets[this.appNetwork(labels[LABELS.app] ?? '')]?.IPAddress || nets[this.network]?.IPAddress || null;
    const started = c.State.StartedAt;
    return {
      id: c.Id,
      name: c.Name.replace(/^\//, ''),
      app: labels[LABELS.app] ?? '',
      process: labels[LABELS.process] ?? '',
      release: Number(labels[LABELS.release] ?? 0),
      replica: Number(labels[LABELS.replica] ?? 0),
      ip,
      port: Number(labels[LABELS.port] ?? 0),
      state: c.State.Status,
      startedAt: started && !started.startsWith('0001-') ? started : null,
      restartCount: c.RestartCount,
      image: c.Config.Image,
      exitCode: c.State.ExitCode,
      oneOff: labels[LABELS.oneOff] === '1',
    };
  }

  /** The last `lines` lines of stdout and stderr, in order, as one string. */
  async logsTail(id: string, lines: number): Promise<string> {
    let buf: Buffer;
    try {
      buf = (await this.docker.getContainer(id).logs({ stdout: true, stderr: true, tail: lines, follow: false })) as unknown as Buffer;
    } catch (e) {
      if (statusOf(e) === 404) throw RuntimeErrors.notFound(`no container ${id}`, e);
      throw dockerError(`cannot read logs of ${id}`, e);
    }
    return demuxToLines(Buffer.isBuffer(buf) ? buf : Buffer.from(String(buf)))
      .map((l) => l.line)
      .join('\n');
  }

  /**
   * Merged logs of several containers, one line at a time with a `process.replica` prefix.
   * Not following: the last `tail` lines of each, merged in time order, then the stream ends.
   * Following: lines as they come until `signal` aborts; `add()` attaches containers started later.
   */
  streamLogs(ids: string[], opts: LogStreamOptions = {}, signal?: AbortSignal, source?: LogSource): LogStream {
    const s = new LogStream(this.docker, this.log, opts, signal, source);
    for (const id of ids) s.add(id);
    if (!opts.follow) s.closeWhenDrained();
    return s;
  }

  /**
   * A one-off container (`paas run`, a deployment task): attached, exit code returned, removed
   * after, killed on abort; on the app's network unless `network` names another (a Swarm app's
   * overlay). `commitAs`: on exit 0 its filesystem is committed as that image tag
   * first (scripts.dokku.predeploy), with the config of the image it ran (task-commit.ts).
   */
  async runOneOff(spec: ContainerSpec, io: OneOffIo, commitAs?: string, network?: string): Promise<number> {
    validateSpec(spec);
    await this.ensureNetwork(spec.app);
    const entrypoint = await imageEntrypoint(this.docker, spec.image);
    const afterExit = commitAs
      ? async (c: Dockerode.Container, code: number) => {
          if (code === 0) await commitTask(this.docker, c, spec.image, commitAs);
        }
      : undefined;
    const ctx = {
      spec,
      network: network ?? this.appNetwork(spec.app),
      extraLabels: this.extraLabels,
      init: this.opts.init ?? true,
      entrypoint,
      afterExit,
      committed: commitAs !== undefined,
      own: this.own,
    };
    return runOneOff(this.docker, this.log, ctx, io);
  }

  stats(id: string): Promise<ContainerStats> {
    return containerStats(this.docker, id);
  }

  /** Removes image tags; tags still used by a container are skipped and reported. */
  async removeImages(tags: string[]): Promise<{ removed: string[]; skipped: Array<{ tag: string; reason: string }> }> {
    const removed: string[] = [];
    const skipped: Array<{ tag: string; reason: string }> = [];
    for (const tag of tags) {
      try {
        await this.docker.getImage(tag).remove({ noprune: false });
        removed.push(tag);
      } catch (e) {
        if (statusOf(e) === 404) continue;
        skipped.push({ tag, reason: engineMessage(e) });
      }
    }
    if (removed.length) this.log.info({ removed, skipped: skipped.length }, 'images removed');
    return { removed, skipped };
  }

  /**
   * Removes untagged images. `olderThan` (a Docker duration, e.g. '1h') spares younger ones: the
   * intermediate layers of a build still running on this engine are untagged too.
   */
  async pruneDanglingImages(olderThan?: string): Promise<{ deleted: number; spaceReclaimed: number }> {
    try {
      const r = await this.docker.pruneImages({ filters: { dangling: ['true'], ...(olderThan ? { until: [olderThan] } : {}) } });
      return { deleted: r.ImagesDeleted?.length ?? 0, spaceReclaimed: r.SpaceReclaimed ?? 0 };
    } catch (e) {
      throw dockerError('cannot prune images', e);
    }
  }

  /**
   * Whether a Docker event was caused by this runtime's own calls: the start of a container it
   * started, anything of a container it is stopping or removing, anything of a one-off or task
   * container. A crash, an engine restart, a `docker kill` or `docker rm` by hand are not.
   */
  /** A container paas runs as a task of its own (a cron run): its events are paas's doing, not a crash to converge. */
  claim(id: string): void {
    this.own.claim(id);
  }

  isOwnEvent(e: Pick<DockerEvent, 'id' | 'action'>): boolean {
    return this.own.isOwn(e.id, e.action);
  }

  /** Docker container events for paas containers, until `signal` aborts; reconnects if dockerd restarts. */
  events(onEvent: (e: DockerEvent) => void, signal: AbortSignal, onConnect?: (reconnected: boolean) => void): void {
    watchDockerEvents(this.docker, this.log, onEvent, signal, onConnect);
  }
}

function dockerError(what: string, e: unknown): AppError {
  return RuntimeErrors.docker(`${what}: ${engineMessage(e)}`, e);
}
