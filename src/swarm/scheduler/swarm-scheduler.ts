import type Dockerode from 'dockerode';
import type { Logger } from '../../log/logger.js';
import { ContainerCrashedError, CRASH_LOG_LINES } from '../../runtime/container-runtime.js';
import type { ContainerInfo, ContainerSpec } from '../../runtime/container-spec.js';
import { type ContainerStats, containerStats } from '../../runtime/container-stats.js';
import { engineMessage, statusOf } from '../../runtime/docker-error-details.js';
import type { DockerEvent } from '../../runtime/docker-events.js';
import { demuxToLines } from '../../runtime/docker-frames.js';
import { imageEntrypoint } from '../../runtime/entrypoint-command.js';
import { type ListeningOptions, type ListeningResult, waitListening } from '../../runtime/port-listening.js';
import { RuntimeErrors } from '../../runtime/runtime-errors.js';
import { sleep } from '../../util/sleep.js';
import type { ImageDistributor } from './image-distributor.js';
import { SchedulerErrors } from './scheduler-errors.js';
import { matches, parsePlacement } from './placement.js';
import { currentTask, replicaInfo, type SwarmNode, type SwarmService, type SwarmTask } from './swarm-replica.js';
import { overlayName, SWARM_LABELS, serviceSpec } from './swarm-service-spec.js';
import { followSwarmChanges } from './swarm-change-feed.js';
import { TaskWatch } from './task-watch.js';

export interface SwarmSchedulerOptions {
  /** labels on everything it creates (tests add paas.test); they also scope what it lists */
  labels?: Record<string, string>;
  /** prefix of the per-app overlay networks; default 'paas' */
  network?: string;
  init?: boolean;
  /** how long a new replica may take to run before its start fails; default 90 s */
  startTimeoutMs?: number;
  /** how often task states are read for failover; default 1000 ms */
  watchIntervalMs?: number;
  /** how often while a replica waits for its replacement task (a crash, a node down); default 200 ms */
  recoverIntervalMs?: number;
}

const FAILED = new Set(['failed', 'rejected', 'shutdown', 'complete', 'orphaned', 'remove']);

/**
 * The Swarm scheduler: each replica of a release is a Swarm service of one task (host-mode port,
 * DNS round-robin endpoint), so paas decides which replica starts and stops, exactly as with
 * local containers, and the deploy pipeline (rollout, cutover) drives it through the same port.
 * Swarm places tasks (spread over nodes, placement constraints) and reschedules them when a node
 * dies; TaskWatch turns such changes into events that converge the app (new addresses routed).
 */
export class SwarmScheduler {
  private readonly labels: Record<string, string>;
  private readonly prefix: string;
  private readonly networksReady = new Map<string, Promise<void>>();
  /** apps with services on the Swarm (seeded at start, kept on create) */
  private readonly apps = new Set<string>();
  /** services this scheduler is creating or removing: their task changes are its own doing */
  private readonly own = new Set<string>();
  private readonly images = new Map<string, Promise<{ reference: string; entrypoint: readonly string[] | null; auth?: object }>>();

  constructor(
    private readonly docker: Dockerode,
    private readonly distributor: ImageDistributor,
    private readonly log: Logger,
    private readonly opts: SwarmSchedulerOptions = {},
  ) {
    this.labels = opts.labels ?? {};
    this.prefix = opts.network ?? 'paas';
  }

  /** Whether the engine is a Swarm manager paas can schedule on. */
  async isManager(): Promise<boolean> {
    const info = (await this.docker.info().catch(() => null)) as { Swarm?: { ControlAvailable?: boolean } } | null;
    return info?.Swarm?.ControlAvailable === true;
  }

  /** Whether `app` has services on the Swarm (so listing it must ask the Swarm). */
  has(app: string): boolean {
    return this.apps.has(app);
  }

  hasAny(): boolean {
    return this.apps.size > 0;
  }

  /** Reads which apps have services (once at start); an engine that is no Swarm manager has none. */
  async seed(): Promise<void> {
    const services = await this.services({}).catch(() => []);
    for (const s of services) this.apps.add(s.Spec?.Labels?.[SWARM_LABELS.app] ?? '');
  }

  async nodes(): Promise<SwarmNode[]> {
    try {
      return (await this.docker.listNodes()) as SwarmNode[];
    } catch (e) {
      if (statusOf(e) === 503) throw SchedulerErrors.noSwarm('this engine is not a Swarm manager: run cluster:init first', e);
      throw SchedulerErrors.swarm(`cannot list Swarm nodes: ${engineMessage(e)}`, e);
    }
  }

  overlay(app: string): string {
    return overlayName(this.prefix, app);
  }

  /** The app's attachable overlay (`paas-<app>-swarm`): tasks on every node and containers attached on the manager reach each other on it. */
  ensureNetwork(app: string): Promise<void> {
    const name = overlayName(this.prefix, app);
    let ready = this.networksReady.get(name);
    if (!ready) {
      ready = this.createOverlay(name, app).catch((e) => {
        this.networksReady.delete(name);
        throw e;
      });
      this.networksReady.set(name, ready);
    }
    return ready;
  }

  private async createOverlay(name: string, app: string): Promise<void> {
    const existing = await this.docker.listNetworks({ filters: { name: [name] } });
    if (existing.some((n) => n.Name === name)) return;
    try {
      await this.docker.createNetwork({
        Name: name,
        Driver: 'overlay',
        Attachable: true,
        CheckDuplicate: true,
        Labels: { ...this.labels, [SWARM_LABELS.managed]: '1', [SWARM_LABELS.app]: app },
      });
      this.log.info({ network: name }, 'swarm overlay network created');
    } catch (e) {
      if (statusOf(e) === 409) return;
      throw SchedulerErrors.swarm(`cannot create overlay network ${name}: ${engineMessage(e)}`, e);
    }
  }

  async removeNetwork(app: string): Promise<boolean> {
    const name = overlayName(this.prefix, app);
    this.networksReady.delete(name);
    this.apps.delete(app);
    try {
      await this.docker.getNetwork(name).remove();
      return true;
    } catch {
      return false;
    }
  }

  /** The release image as nodes pull it, and its entrypoint; asked once per image. */
  private image(image: string, app: string, release: number) {
    let got = this.images.get(image);
    if (!got) {
      got = (async () => {
        const [dist, entrypoint] = await Promise.all([
          this.distributor.distribute(image, app, release),
          imageEntrypoint(this.docker, image),
        ]);
        return { reference: dist.reference, entrypoint, ...(dist.auth ? { auth: dist.auth } : {}) };
      })();
      got.catch(() => this.images.delete(image));
      this.images.set(image, got);
    }
    return got;
  }

  /** Creates the replica's service and waits until its task runs with a published port; on failure the service is removed. */
  async start(spec: ContainerSpec): Promise<ContainerInfo> {
    await this.ensureNetwork(spec.app);
    const img = await this.image(spec.image, spec.app, spec.release);
    const body = serviceSpec(spec, {
      image: img.reference,
      entrypoint: img.entrypoint,
      network: overlayName(this.prefix, spec.app),
      labels: this.labels,
      init: this.opts.init ?? true,
    });
    const pin = await this.spreadNode(spec).catch(() => null);
    const constraints = spec.placement ?? [];
    if (pin) (body.TaskTemplate as { Placement: { Constraints: string[] } }).Placement.Constraints = [...constraints, `node.id==${pin}`];
    let id: string;
    try {
      const created = (await (img.auth ? this.docker.createService(img.auth, body) : this.docker.createService(body))) as {
        id?: string;
        ID?: string;
      };
      id = (created.id ?? created.ID)!;
    } catch (e) {
      throw RuntimeErrors.startFailed(`cannot create Swarm service for ${spec.app} ${spec.process}: ${engineMessage(e)}`, e);
    }
    this.apps.add(spec.app);
    try {
      let info = await this.untilRunning(id, body.Name as string);
      if (pin)
        info =
          (await this.unpin(id, constraints, img.auth).catch((err) => this.log.warn({ err, service: id }, 'swarm replica stays pinned'))) ??
          info;
      this.log.info(
        {
          app: spec.app,
          process: spec.process,
          release: spec.release,
          replica: spec.replica,
          service: id,
          node: info.node,
          address: `${info.ip}:${info.port}`,
        },
        'swarm replica started',
      );
      return info;
    } catch (e) {
      await this.stop(id, 1).catch(() => undefined);
      throw e;
    }
  }

  /**
   * The node a new replica should go to so an app's replicas spread over the nodes: replica r of
   * a process goes to the (r-1)-th eligible node (ready, active, matching the placement; by node
   * ID), round robin, so replicas 1 and 2 are never on one node while two are eligible, and a
   * restart or a new release puts each replica where its predecessor was. Swarm's own choice
   * cannot do it: each replica is its own service, and Swarm spreads the tasks of one service,
   * then goes by the nodes' total task counts, which the old release's replicas still inflate
   * during a rollout. Null when there is no choice to make.
   */
  private async spreadNode(spec: ContainerSpec): Promise<string | null> {
    const constraints = spec.placement?.length ? parsePlacement(spec.placement.join(',')) : [];
    const nodes = (await this.nodes())
      .filter((n) => n.Status?.State === 'ready' && (n.Spec?.Availability ?? 'active') === 'active' && matches(n, constraints))
      .sort((a, b) => a.ID.localeCompare(b.ID));
    if (nodes.length < 2) return null;
    return nodes[(Math.max(1, spec.replica) - 1) % nodes.length]!.ID;
  }

  /**
   * Drops the node pin once the task runs, so Swarm may move the replica when its node dies. Swarm
   * leaves a running task alone when only the placement changed and its node still fits.
   */
  private async unpin(id: string, constraints: string[], auth?: object): Promise<ContainerInfo> {
    const svc = this.docker.getService(id);
    const cur = (await svc.inspect()) as { Version: { Index: number }; Spec: { TaskTemplate: { Placement?: { Constraints?: string[] } } } };
    const spec = {
      ...cur.Spec,
      TaskTemplate: { ...cur.Spec.TaskTemplate, Placement: { ...cur.Spec.TaskTemplate.Placement, Constraints: constraints } },
    };
    // the registry login goes as X-Registry-Auth (dockerode's first argument), never in the query
    const update = svc.update.bind(svc) as unknown as (auth: object | undefined, opts: object) => Promise<unknown>;
    await update(auth, { ...spec, version: cur.Version.Index });
    const [info] = await this.list({}, [id]);
    if (!info) throw SchedulerErrors.taskFailed(`service ${id} vanished`);
    return info;
  }

  private async untilRunning(id: string, name: string): Promise<ContainerInfo> {
    const deadline = Date.now() + (this.opts.startTimeoutMs ?? 90_000);
    for (let wait = 100; ; wait = Math.min(500, wait * 2)) {
      const [info] = await this.list({}, [id]);
      const tasks = await this.tasks([id]);
      const t = currentTask(tasks);
      if (info?.state === 'running' && info.ip) return info;
      const err = t?.Status?.Err ?? '';
      if (/no suitable node/i.test(err)) throw SchedulerErrors.noMatchingNode(`service ${name}: ${err}`);
      if (
        tasks.some((x) => FAILED.has(x.Status?.State ?? '') && x.DesiredState !== 'running' && x.Status?.State !== 'shutdown') ||
        (t && FAILED.has(t.Status?.State ?? ''))
      ) {
        const logs = (await this.logsTail(id, CRASH_LOG_LINES).catch(() => '')).split('\n').filter(Boolean);
        throw new ContainerCrashedError(name, t?.Status?.ContainerStatus?.ExitCode ?? null, logs);
      }
      if (Date.now() > deadline)
        throw SchedulerErrors.taskFailed(
          `service ${name} did not run within ${Math.round((this.opts.startTimeoutMs ?? 90_000) / 1000)} s (task ${t?.Status?.State ?? 'not created'}${err ? `: ${err}` : ''})`,
        );
      await sleep(wait);
    }
  }

  /** Resolves when the replica's task still runs (the same task) after `ms`; throws ContainerCrashedError when it failed or Swarm replaced it. */
  async waitUp(id: string, ms: number, signal?: AbortSignal): Promise<void> {
    const first = currentTask(await this.tasks([id]));
    if (!first) throw RuntimeErrors.notFound(`no Swarm service ${id}`);
    const deadline = Date.now() + ms;
    for (;;) {
      if (signal?.aborted) throw RuntimeErrors.cancelled('cancelled while waiting for the replica');
      const t = currentTask(await this.tasks([id]));
      if (!t || t.ID !== first.ID || t.Status?.State !== 'running' || t.DesiredState !== 'running') {
        const lines = (await this.logsTail(id, CRASH_LOG_LINES).catch(() => '')).split('\n').filter(Boolean);
        const exit = t?.Status?.ContainerStatus?.ExitCode ?? first.Status?.ContainerStatus?.ExitCode ?? null;
        throw new ContainerCrashedError(await this.nameOf(id), t && t.ID !== first.ID ? null : exit, lines.slice(-CRASH_LOG_LINES));
      }
      const left = deadline - Date.now();
      if (left <= 0) return;
      await sleep(Math.min(500, left), signal);
    }
  }

  waitListening(c: Pick<ContainerInfo, 'ip' | 'port'>, opts: ListeningOptions): Promise<ListeningResult> {
    return c.ip ? waitListening(c.ip, c.port, opts) : Promise.resolve('deadline');
  }

  /** Removes the replica's service: Swarm stops its task with the grace given at create (SIGTERM, then SIGKILL). */
  async stop(id: string, _graceSeconds = 10): Promise<void> {
    this.own.add(id);
    try {
      await this.docker.getService(id).remove();
    } catch (e) {
      if (statusOf(e) !== 404) throw SchedulerErrors.swarm(`cannot remove Swarm service ${id}: ${engineMessage(e)}`, e);
    }
  }

  /** The app's replicas (services of this server), narrowed like ContainerRuntime.list. `ids`: only these services. */
  async list(filter: { app?: string; process?: string; release?: number } = {}, ids?: string[]): Promise<ContainerInfo[]> {
    const services = await this.services(filter, ids);
    if (services.length === 0) return [];
    const [tasks, nodes] = await Promise.all([this.tasks(services.map((s) => s.ID)), this.nodes()]);
    const byNode = new Map(nodes.map((n) => [n.ID, n]));
    return services
      .map((s) =>
        replicaInfo(
          s,
          tasks.filter((t) => t.ServiceID === s.ID),
          byNode,
        ),
      )
      .sort((a, b) => a.app.localeCompare(b.app) || a.process.localeCompare(b.process) || a.replica - b.replica || a.release - b.release);
  }

  private async services(filter: { app?: string; process?: string; release?: number }, ids?: string[]): Promise<SwarmService[]> {
    const label = [
      SWARM_LABELS.app,
      ...(filter.app !== undefined ? [`${SWARM_LABELS.app}=${filter.app}`] : []),
      ...(filter.process !== undefined ? [`${SWARM_LABELS.process}=${filter.process}`] : []),
      ...(filter.release !== undefined ? [`${SWARM_LABELS.release}=${filter.release}`] : []),
      ...Object.entries(this.labels).map(([k, v]) => (v ? `${k}=${v}` : k)),
    ];
    try {
      return (await this.docker.listServices({ filters: { label, ...(ids ? { id: ids } : {}) } })) as SwarmService[];
    } catch (e) {
      if (statusOf(e) === 503) return [];
      throw SchedulerErrors.swarm(`cannot list Swarm services: ${engineMessage(e)}`, e);
    }
  }

  private async tasks(serviceIds: string[]): Promise<SwarmTask[]> {
    if (serviceIds.length === 0) return [];
    try {
      return (await this.docker.listTasks({ filters: { service: serviceIds } })) as SwarmTask[];
    } catch (e) {
      if (statusOf(e) === 404) return [];
      throw SchedulerErrors.swarm(`cannot list Swarm tasks: ${engineMessage(e)}`, e);
    }
  }

  private async nameOf(id: string): Promise<string> {
    const s = (await this.docker
      .getService(id)
      .inspect()
      .catch(() => null)) as SwarmService | null;
    return s?.Spec?.Name ?? id;
  }

  /** The last `lines` lines of the replica's service logs (every task of it, on any node). */
  async logsTail(id: string, lines: number): Promise<string> {
    let buf: Buffer;
    try {
      buf = (await this.docker.getService(id).logs({ stdout: true, stderr: true, tail: lines, follow: false })) as unknown as Buffer;
    } catch (e) {
      if (statusOf(e) === 404) throw RuntimeErrors.notFound(`no Swarm service ${id}`, e);
      throw SchedulerErrors.swarm(`cannot read logs of service ${id}: ${engineMessage(e)}`, e);
    }
    return demuxToLines(Buffer.isBuffer(buf) ? buf : Buffer.from(String(buf)))
      .map((l) => l.line)
      .join('\n');
  }

  /** The service logs of a replica (its tasks on every node), prefixed `process.replica` as a container's are. */
  async logSource(id: string): Promise<{ prefix: string; logs(opts: Record<string, unknown>): Promise<unknown> }> {
    const svc = this.docker.getService(id);
    const l = ((await svc.inspect()) as SwarmService).Spec?.Labels ?? {};
    return {
      prefix: `${l[SWARM_LABELS.process] ?? '?'}.${l[SWARM_LABELS.replica] ?? 0}`,
      logs: (opts) => svc.logs(opts as never) as unknown as Promise<unknown>,
    };
  }

  /** CPU and memory of the replica's task when it runs on this engine's node; elsewhere the node's engine holds them (not reachable from here). */
  async stats(id: string): Promise<ContainerStats> {
    const t = currentTask(await this.tasks([id]));
    const cid = t?.Status?.ContainerStatus?.ContainerID;
    if (!cid) throw RuntimeErrors.notFound(`no running task for service ${id}`);
    return containerStats(this.docker, cid);
  }

  /** The task container of a replica that runs on this engine's node (for `run` and logs of local parts), else null. */
  async localContainer(id: string): Promise<string | null> {
    const t = currentTask(await this.tasks([id]));
    const cid = t?.Status?.ContainerStatus?.ContainerID;
    if (!cid) return null;
    const here = await this.docker
      .getContainer(cid)
      .inspect()
      .then(
        () => true,
        () => false,
      );
    return here ? cid : null;
  }

  /** Whether a replica event was caused by this scheduler's own create or remove. */
  isOwnEvent(e: Pick<DockerEvent, 'id'>): boolean {
    return this.own.has(e.id);
  }

  /**
   * Task changes of the apps on the Swarm as replica events, until `signal` aborts: a replica
   * whose running task died, or that Swarm moved to another node (its node died), is reported
   * `die`; one whose new task runs is reported `start`. Task states are read (one API call) every
   * `watchIntervalMs` while any app runs on the Swarm, every `recoverIntervalMs` while a replica
   * waits for its replacement task, and at once on a node or service event (a node marked down:
   * Swarm moves its tasks the same moment).
   */
  events(onEvent: (e: DockerEvent) => void, signal: AbortSignal): void {
    const watch = new TaskWatch();
    const interval = this.opts.watchIntervalMs ?? 1000;
    const recovering = this.opts.recoverIntervalMs ?? 200;
    let wake: (() => void) | null = null;
    followSwarmChanges(
      this.docker,
      this.log,
      (c) => {
        if (c.type === 'node' && c.state) this.log.info({ state: c.state }, 'swarm node state changed');
        wake?.();
      },
      signal,
    );
    const tick = async () => {
      if (this.apps.size === 0) return;
      const services = await this.services({});
      const tasks = await this.tasks(services.map((s) => s.ID));
      for (const ev of watch.update(services, tasks)) {
        if (this.own.has(ev.id)) continue;
        this.log.info({ app: ev.app, replica: ev.replica, action: ev.action, service: ev.id }, 'swarm replica task changed');
        onEvent(ev);
      }
      for (const id of this.own) if (!services.some((s) => s.ID === id)) this.own.delete(id);
    };
    void (async () => {
      while (!signal.aborted) {
        await tick().catch((err) => this.log.warn({ err: (err as Error).message }, 'swarm task watch failed'));
        // the pause until the next look, cut short by a Swarm event or the end
        await new Promise<void>((resolve) => {
          const done = () => {
            clearTimeout(t);
            wake = null;
            signal.removeEventListener('abort', done);
            resolve();
          };
          const t = setTimeout(done, watch.recovering() ? recovering : interval);
          wake = done;
          signal.addEventListener('abort', done, { once: true });
        });
      }
    })();
  }
}
