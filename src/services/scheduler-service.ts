import type { Writable } from 'node:stream';
import type { ContainerInfo } from '../deploy/adapter-interfaces.js';
import { type Locks, underLock } from '../deploy/app-locks.js';
import type { AppSettingsStore } from '../deploy/app-settings-store.js';
import { SCHEDULER_NAMES, type SchedulerName } from '../deploy/scheduler-port.js';
import type { Release } from '../state/releases-repository.js';
import { nodesFor, parsePlacement } from '../swarm/scheduler/placement.js';
import { SchedulerErrors } from '../swarm/scheduler/scheduler-errors.js';
import type { SwarmNode } from '../swarm/scheduler/swarm-replica.js';

export interface SchedulerDeps {
  settings: Pick<AppSettingsStore, 'get' | 'write'>;
  globals: { get(key: string): string | undefined; set(key: string, value: string): void };
  /** the global setting's key (scheduler:set --global) */
  globalKey: string;
  swarm: { isManager(): Promise<boolean>; nodes(): Promise<SwarmNode[]> };
  runtime: { list(filter: { app: string }): Promise<ContainerInfo[]>; schedulerOf(app: string): SchedulerName };
  current(app: string): Release | undefined;
  isStopped(app: string): boolean;
  /** a health-gated rollout of the live release (ps:restart): the new replicas start on the app's scheduler, the old ones retire */
  restart(app: string, out: Writable, signal: AbortSignal): Promise<unknown>;
  locks: Locks;
}

export interface SchedulerReport {
  app: string;
  scheduler: SchedulerName;
  /** where the choice comes from: the app's own setting, the global default, or paas's default (local) */
  source: 'app' | 'global' | 'default';
  global: SchedulerName;
  placement: string[];
  swarm: { manager: boolean; nodes: number; ready: number };
  replicas: Array<{
    process: string;
    replica: number;
    release: number;
    state: string;
    node: string | null;
    address: string | null;
    scheduler: SchedulerName;
  }>;
}

function checkName(name: string): SchedulerName {
  if (!(SCHEDULER_NAMES as readonly string[]).includes(name))
    throw SchedulerErrors.badScheduler(`scheduler must be local or swarm, got '${name}'`);
  return name as SchedulerName;
}

/** scheduler:set, scheduler:report and ps:set placement: which scheduler runs an app, and where on the Swarm it may run. */
export class SchedulerService {
  constructor(private readonly deps: SchedulerDeps) {}

  private global(): SchedulerName {
    return this.deps.globals.get(this.deps.globalKey) === 'swarm' ? 'swarm' : 'local';
  }

  private async requireSwarm(what: string): Promise<void> {
    if (!(await this.deps.swarm.isManager()))
      throw SchedulerErrors.noSwarm(`${what} needs a Swarm: this engine is not a Swarm manager (run cluster:init first)`);
  }

  /**
   * Moves the app to `name`. With a live release it is rolled out again at once, health-gated:
   * the new replicas start on the new scheduler, the old ones retire only once the new ones serve;
   * if that fails, the app stays where it was.
   */
  async set(app: string, name: string, out: Writable, signal: AbortSignal): Promise<{ scheduler: SchedulerName; moved: boolean }> {
    const d = this.deps;
    const next = checkName(name);
    if (next === 'swarm') await this.requireSwarm('scheduler:set swarm');
    const before = d.settings.get(app, 'scheduler');
    const was = d.runtime.schedulerOf(app);
    await underLock(d.locks, app, 'a scheduler:set', out, signal, async () => d.settings.write(app, 'scheduler', next));
    if (was === next || !d.current(app) || d.isStopped(app)) return { scheduler: next, moved: false };
    try {
      await d.restart(app, out, signal);
    } catch (err) {
      await underLock(d.locks, app, 'a scheduler:set', null, new AbortController().signal, async () =>
        d.settings.write(app, 'scheduler', before),
      );
      throw err;
    }
    return { scheduler: next, moved: true };
  }

  /** The scheduler of apps without their own; applies to them at their next rollout. */
  async setGlobal(name: string): Promise<SchedulerName> {
    const next = checkName(name);
    if (next === 'swarm') await this.requireSwarm('scheduler:set --global swarm');
    this.deps.globals.set(this.deps.globalKey, next);
    return next;
  }

  async report(app: string): Promise<SchedulerReport> {
    const d = this.deps;
    const own = d.settings.get(app, 'scheduler');
    const global = this.global();
    const manager = await d.swarm.isManager();
    const nodes = manager ? await d.swarm.nodes().catch(() => []) : [];
    const list = (await d.runtime.list({ app })).filter((c) => !c.oneOff);
    return {
      app,
      scheduler: d.runtime.schedulerOf(app),
      source: own ? 'app' : d.globals.get(d.globalKey) ? 'global' : 'default',
      global,
      placement: d.settings.get(app, 'placement'),
      swarm: { manager, nodes: nodes.length, ready: nodes.filter((n) => n.Status?.State === 'ready').length },
      replicas: list.map((c) => ({
        process: c.process,
        replica: c.replica,
        release: c.release,
        state: c.state,
        node: c.node ?? null,
        address: c.ip ? `${c.ip}:${c.port}` : null,
        scheduler: c.node === undefined ? 'local' : 'swarm',
      })),
    };
  }

  /**
   * `ps:set placement EXPR[,EXPR]` (or `none`): checked against the Swarm's nodes before it is
   * stored, so a constraint no ready, active node matches is refused and nothing changes. It
   * applies at the next rollout (ps:restart, a push).
   */
  async setPlacement(app: string, value: string, out: Writable, signal: AbortSignal): Promise<{ placement: string[]; nodes: string[] }> {
    const d = this.deps;
    if (value === 'none') {
      await underLock(d.locks, app, 'a ps:set', out, signal, async () => d.settings.write(app, 'placement', []));
      return { placement: [], nodes: [] };
    }
    const constraints = parsePlacement(value);
    await this.requireSwarm('ps:set placement');
    const nodes = nodesFor(await d.swarm.nodes(), constraints);
    const placement = constraints.map((c) => c.text);
    await underLock(d.locks, app, 'a ps:set', out, signal, async () => d.settings.write(app, 'placement', placement));
    return { placement, nodes };
  }
}
