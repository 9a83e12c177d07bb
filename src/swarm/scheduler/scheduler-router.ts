import type { SchedulerName, SchedulerPort } from '../../deploy/scheduler-port.js';
import type { ContainerRuntime } from '../../runtime/container-runtime.js';
import type { ContainerInfo, ContainerSpec } from '../../runtime/container-spec.js';
import type { ContainerStats } from '../../runtime/container-stats.js';
import type { DockerEvent } from '../../runtime/docker-events.js';
import type { LogSource, LogStream, LogStreamOptions } from '../../runtime/log-stream.js';
import type { OneOffIo } from '../../runtime/one-off-runner.js';
import type { ListeningOptions, ListeningResult } from '../../runtime/port-listening.js';
import type { SwarmScheduler } from './swarm-scheduler.js';

/** A local container's id is 64 hex digits; a Swarm service's (a replica on the Swarm) is not. */
export const isSwarmId = (id: string): boolean => !/^[0-9a-f]{64}$/.test(id);

/**
 * The one scheduler the deploy pipeline and the services are given: each app's replicas start
 * where its `scheduler` setting says (scheduler:set, else the global default, else local), while
 * listing, stopping and watching go by what exists, so an app moved from one scheduler to the
 * other is switched by an ordinary blue-green rollout (the new replicas on one, the old retired on
 * the other). An app on the local scheduler costs nothing more: the Swarm is asked about an app
 * only when it is, or was, scheduled there.
 */
export class SchedulerRouter implements SchedulerPort {
  constructor(
    readonly local: ContainerRuntime,
    readonly swarm: SwarmScheduler,
    private readonly choose: (app: string) => SchedulerName,
    private readonly containerLogs: LogSource,
  ) {}

  schedulerOf(app: string): SchedulerName {
    return this.choose(app);
  }

  private onSwarm(app: string): boolean {
    return this.choose(app) === 'swarm';
  }

  private asksSwarm(app: string | undefined): boolean {
    return app === undefined ? this.swarm.hasAny() : this.swarm.has(app) || this.onSwarm(app);
  }

  /**
   * The network add-ons and one-offs join to reach the app's replicas: the app's bridge, or for an
   * app on the Swarm its attachable overlay, which tasks on every node are on (an add-on stays a
   * container on the manager and publishes no port).
   */
  appNetwork(app: string): string {
    return this.onSwarm(app) ? this.swarm.overlay(app) : this.local.appNetwork(app);
  }

  async ensureNetwork(app?: string): Promise<void> {
    await this.local.ensureNetwork(app);
    if (app !== undefined && this.onSwarm(app)) await this.swarm.ensureNetwork(app);
  }

  async removeNetwork(app: string): Promise<boolean> {
    const [local, swarm] = await Promise.all([this.local.removeNetwork(app), this.swarm.has(app) ? this.swarm.removeNetwork(app) : false]);
    return local || swarm;
  }

  start(spec: ContainerSpec): Promise<ContainerInfo> {
    return this.onSwarm(spec.app) ? this.swarm.start(spec) : this.local.start(spec);
  }

  waitUp(id: string, ms: number, signal?: AbortSignal): Promise<void> {
    return isSwarmId(id) ? this.swarm.waitUp(id, ms, signal) : this.local.waitUp(id, ms, signal);
  }

  waitListening(c: Pick<ContainerInfo, 'ip' | 'port'>, opts: ListeningOptions): Promise<ListeningResult> {
    return this.local.waitListening(c, opts);
  }

  stop(id: string, graceSeconds?: number): Promise<void> {
    return isSwarmId(id) ? this.swarm.stop(id, graceSeconds) : this.local.stop(id, graceSeconds);
  }

  /**
   * A warm release (releases:set keep-warm) is a paused local container; a Swarm replica cannot be
   * paused through the manager's API, so a Swarm app's previous release is stopped as before and
   * its rollbacks start replicas (warm-release.ts stops what it could not pause).
   */
  pause(id: string): Promise<void> {
    return isSwarmId(id) ? Promise.reject(new Error('a Swarm replica cannot be kept warm')) : this.local.pause(id);
  }

  unpause(id: string): Promise<void> {
    return isSwarmId(id) ? Promise.reject(new Error('a Swarm replica is never paused')) : this.local.unpause(id);
  }

  async list(filter: { app?: string; process?: string; release?: number } = {}): Promise<ContainerInfo[]> {
    const [local, swarm] = await Promise.all([this.local.list(filter), this.asksSwarm(filter.app) ? this.swarm.list(filter) : []]);
    return swarm.length ? [...local, ...swarm] : local;
  }

  logsTail(id: string, lines: number): Promise<string> {
    return isSwarmId(id) ? this.swarm.logsTail(id, lines) : this.local.logsTail(id, lines);
  }

  stats(id: string): Promise<ContainerStats> {
    return isSwarmId(id) ? this.swarm.stats(id) : this.local.stats(id);
  }

  /** Merged logs of local containers and Swarm replicas (service logs: lines of tasks on every node). */
  streamLogs(ids: string[], opts: LogStreamOptions = {}, signal?: AbortSignal): LogStream {
    const source: LogSource = (id) => (isSwarmId(id) ? this.swarm.logSource(id) : this.containerLogs(id));
    return this.local.streamLogs(ids, opts, signal, source);
  }

  /** `paas run` and deployment tasks run on the manager's engine, where the release image was built, on the app's network (a Swarm app's overlay). */
  async runOneOff(spec: ContainerSpec, io: OneOffIo, commitAs?: string): Promise<number> {
    if (!this.onSwarm(spec.app)) return this.local.runOneOff(spec, io, commitAs);
    await this.swarm.ensureNetwork(spec.app);
    return this.local.runOneOff(spec, io, commitAs, this.swarm.overlay(spec.app));
  }

  imageExists(image: string): Promise<boolean> {
    return this.local.imageExists(image);
  }

  removeImages(tags: string[]) {
    return this.local.removeImages(tags);
  }

  pruneDanglingImages(olderThan?: string) {
    return this.local.pruneDanglingImages(olderThan);
  }

  events(onEvent: (e: DockerEvent) => void, signal: AbortSignal, onConnect?: (reconnected: boolean) => void): void {
    this.local.events(onEvent, signal, onConnect);
    this.swarm.events(onEvent, signal);
  }

  isOwnEvent(e: Pick<DockerEvent, 'id' | 'action'>): boolean {
    return isSwarmId(e.id) ? this.swarm.isOwnEvent(e) : this.local.isOwnEvent(e);
  }
}
