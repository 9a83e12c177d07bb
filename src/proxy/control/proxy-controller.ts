import type { Logger } from '../../log/logger.js';
import type { AccessEntry, ProxyFigures } from '../edge/request-figures.js';
import { HealthCheck } from '../routing/health-check.js';
import { ProxyErrors } from '../proxy-errors.js';
import type { RouteTable } from '../routing/route-table.js';
import type { RouteStore } from '../routing/route-store.js';
import { assertServiceName, type ServiceSpec, type TrafficControls } from '../routing/service-spec.js';
import { TargetRecovery } from '../routing/target-recovery.js';
import type { WorkerPool } from '../process/worker-pool.js';

export interface DeployResult {
  drainedMs: number;
  /** targets that were health-checked (new to the service) */
  checked: string[];
  /** requests answered 504 because the drain timed out */
  expired: number;
  /** time from the swap decision to the new routes applied in every worker (persisting included) */
  swapMs: number;
}

export interface ServiceInfo {
  name: string;
  hosts: string[];
  targets: string[];
  inflight: Record<string, number>;
  /** false while a target is out of rotation after refused connections */
  healthy: Record<string, boolean>;
  /** upstream connections per target (all workers): in use and idle keep-alive */
  connections: Record<string, { active: number; idle: number }>;
  /** ps:maintenance message, null when serving */
  maintenance: string | null;
  /** ps:pause deadline (epoch ms), null when not paused */
  pausedUntil: number | null;
  /** null: the proxy's default */
  maxBodyBytes: number | null;
}

/**
 * The primary's brain: owns the services, health-gates new targets, swaps the route table in
 * every worker at once, persists it, and waits for retired targets to drain.
 */
export class ProxyController {
  private readonly services: Map<string, ServiceSpec>;
  private readonly store: RouteStore;
  private readonly workers: WorkerPool;
  private readonly log: Logger;
  private readonly queues = new Map<string, Promise<unknown>>();
  /** per service, targets out of rotation (passive health); not persisted */
  private readonly down = new Map<string, Set<string>>();
  private readonly recovery: TargetRecovery;
  private version = 1;

  constructor(services: Map<string, ServiceSpec>, store: RouteStore, workers: WorkerPool, logger: Logger) {
    this.services = services;
    this.store = store;
    this.workers = workers;
    this.log = logger;
    this.recovery = new TargetRecovery((service, address) => void this.targetUp(service, address), logger);
    workers.onTargetDown((service, address) => void this.targetDown(service, address));
  }

  /** Stops the probes of targets out of rotation. */
  close(): void {
    this.recovery.close();
  }

  get serviceCount(): number {
    return this.services.size;
  }

  table(version = this.version): RouteTable {
    return {
      version,
      services: [...this.services].map(([name, s]) => {
        const down = [...(this.down.get(name) ?? [])].filter((t) => s.targets.includes(t));
        const c = s.controls;
        return {
          name,
          hosts: s.hosts,
          targets: s.targets,
          ...(down.length > 0 ? { down } : {}),
          ...(s.maxBodyBytes !== undefined ? { maxBodyBytes: s.maxBodyBytes } : {}),
          ...(c?.maintenance !== undefined ? { maintenance: c.maintenance } : {}),
          ...(c?.pausedUntil !== undefined && c.pausedUntil > Date.now() ? { pausedUntil: c.pausedUntil } : {}),
        };
      }),
    };
  }

  /** Runs operations on one service one after the other; other services proceed in parallel. */
  private serialize<T>(name: string, fn: () => Promise<T>): Promise<T> {
    const prev = this.queues.get(name) ?? Promise.resolve();
    const run = prev.then(fn, fn);
    const tail = run.catch(() => {});
    this.queues.set(name, tail);
    tail.then(() => {
      if (this.queues.get(name) === tail) this.queues.delete(name);
    });
    return run;
  }

  private assertHostsFree(name: string, hosts: readonly string[]): void {
    for (const [other, spec] of this.services) {
      if (other === name) continue;
      const clash = hosts.find((h) => spec.hosts.includes(h));
      if (clash) throw ProxyErrors.hostConflict(`host '${clash}' is already routed to service '${other}'`);
    }
  }

  /** Persists the routes and applies them in every worker; the version moves only once both succeeded. */
  private async commit(): Promise<void> {
    const next = this.version + 1;
    await this.store.save(this.services);
    await this.workers.apply(this.table(next));
    this.version = next;
  }

  /**
   * Sets (or with null removes) a service and commits; when persisting or applying fails the
   * controller goes back to the routes it had, so what it reports is what the workers serve.
   */
  private async swap(name: string, spec: ServiceSpec | null): Promise<void> {
    const before = this.services.get(name);
    if (spec) this.services.set(name, spec);
    else this.services.delete(name);
    try {
      await this.commit();
    } catch (err) {
      if (before) this.services.set(name, before);
      else this.services.delete(name);
      // the new routes may be saved already (applying them failed): the store goes back too
      await this.store.save(this.services).catch((e) => this.log.error({ err: (e as Error).message }, 'route rollback not persisted'));
      throw err;
    }
    this.forgetDown(name, spec?.targets ?? []);
  }

  /** Blue-green deploy: health-gate new targets, swap, then drain the removed ones. */
  deploy(name: string, spec: ServiceSpec): Promise<DeployResult> {
    assertServiceName(name);
    this.assertHostsFree(name, spec.hosts);
    return this.serialize(name, async () => {
      const current = this.services.get(name);
      const fresh = spec.targets.filter((t) => !current?.targets.includes(t));
      if (fresh.length > 0) {
        const deadline = Date.now() + spec.deployTimeoutMs;
        const results = await Promise.all(fresh.map((addr) => new HealthCheck(addr, spec.healthCheck).waitHealthy(deadline)));
        const badIndex = results.findIndex((r) => !r.healthy);
        if (badIndex !== -1) {
          const bad = results[badIndex];
          this.log.warn({ service: name, target: fresh[badIndex], detail: bad.detail, probes: bad.probes }, 'target failed health check');
          throw ProxyErrors.unhealthy(
            `target ${fresh[badIndex]} of service '${name}' did not become healthy within ${spec.deployTimeoutMs} ms (${bad.probes} probes, last: ${bad.detail})`,
          );
        }
      }
      this.assertHostsFree(name, spec.hosts);
      const removed = current ? current.targets.filter((t) => !spec.targets.includes(t)) : [];
      const swapStart = performance.now();
      // a running service keeps its maintenance and pause (set through setControls, possibly during
      // this deploy); the deploy's own controls (the control plane's stored ones) create a new service's
      const { controls: given, ...routes } = spec;
      const existing = this.services.get(name);
      const controls = existing
        ? existing.controls
        : given && (given.maintenance !== undefined || given.pausedUntil !== undefined)
          ? given
          : undefined;
      await this.swap(name, controls ? { ...routes, controls } : routes);
      const swapMs = performance.now() - swapStart;
      this.log.info({ service: name, targets: spec.targets, removed, hosts: spec.hosts }, 'service routes swapped');
      const started = Date.now();
      const drain = removed.length > 0 ? await this.workers.drain(name, removed, spec.drainTimeoutMs) : { expired: 0 };
      const drainedMs = Date.now() - started;
      if (removed.length > 0) this.log.info({ service: name, removed, drainedMs, expired: drain.expired }, 'targets drained');
      return { drainedMs, checked: fresh, expired: drain.expired, swapMs };
    });
  }

  /**
   * Sets a service's traffic controls (maintenance message, pause deadline) in every worker at once
   * and persists them with the routes; a later deploy keeps them.
   */
  async setControls(name: string, controls: TrafficControls): Promise<TrafficControls> {
    const current = this.services.get(name);
    if (!current) throw ProxyErrors.serviceNotFound(`no service '${name}'`);
    const next: ServiceSpec = { ...current };
    const { maxBodyBytes, ...traffic } = controls;
    if (maxBodyBytes !== undefined) next.maxBodyBytes = maxBodyBytes;
    if (traffic.maintenance === undefined && traffic.pausedUntil === undefined) delete next.controls;
    else next.controls = traffic;
    this.services.set(name, next);
    try {
      await this.commit();
    } catch (err) {
      if (this.services.get(name) === next) this.services.set(name, current);
      throw err;
    }
    this.log.info(
      { service: name, maintenance: controls.maintenance !== undefined, pausedUntil: controls.pausedUntil },
      'traffic controls set',
    );
    return controls;
  }

  /** Removes a service's routes and drains all its targets. */
  remove(name: string): Promise<DeployResult> {
    return this.serialize(name, async () => {
      const current = this.services.get(name);
      if (!current) throw ProxyErrors.serviceNotFound(`no service '${name}'`);
      const swapStart = performance.now();
      await this.swap(name, null);
      const swapMs = performance.now() - swapStart;
      const started = Date.now();
      const drain = current.targets.length > 0 ? await this.workers.drain(name, current.targets, current.drainTimeoutMs) : { expired: 0 };
      const drainedMs = Date.now() - started;
      this.log.info({ service: name, drainedMs }, 'service removed');
      return { drainedMs, checked: [], expired: drain.expired, swapMs };
    });
  }

  /** The request figures of every worker, summed (GET /figures). */
  figures(): Promise<ProxyFigures> {
    return this.workers.figures();
  }

  /** One app's access log from every worker (GET /access-log). */
  accessLog(app: string, since: number, limit: number): Promise<AccessEntry[]> {
    return this.workers.accessLog(app, since, limit);
  }

  async list(): Promise<ServiceInfo[]> {
    return (await this.report()).services;
  }

  /** Every service with its targets' health, in-flight requests and upstream connections, and the open client connections. */
  async report(): Promise<{ clients: number; services: ServiceInfo[] }> {
    const stats = await this.workers.stats();
    const now = Date.now();
    const services = [...this.services].map(([name, s]) => ({
      name,
      hosts: s.hosts,
      targets: s.targets,
      inflight: Object.fromEntries(s.targets.map((t) => [t, stats.inflight[name]?.[t] ?? 0])),
      healthy: Object.fromEntries(s.targets.map((t) => [t, !this.down.get(name)?.has(t)])),
      connections: Object.fromEntries(s.targets.map((t) => [t, stats.upstream[t] ?? { active: 0, idle: 0 }])),
      maintenance: s.controls?.maintenance ?? null,
      pausedUntil: s.controls?.pausedUntil !== undefined && s.controls.pausedUntil > now ? s.controls.pausedUntil : null,
      maxBodyBytes: s.maxBodyBytes ?? null,
    }));
    return { clients: stats.clients, services };
  }

  /**
   * A worker saw `address` refuse connections several times in a row: take it out of every
   * worker's rotation and probe it until it answers. Not queued behind deploys of the service.
   */
  async targetDown(name: string, address: string): Promise<void> {
    const spec = this.services.get(name);
    if (!spec?.targets.includes(address)) return;
    let down = this.down.get(name);
    if (down?.has(address)) return;
    if (!down) {
      down = new Set();
      this.down.set(name, down);
    }
    down.add(address);
    this.log.warn({ service: name, target: address }, 'target refuses connections, out of rotation');
    this.recovery.start(name, address, spec.healthCheck);
    await this.commit().catch((err) => this.log.error({ err: (err as Error).message }, 'route update failed'));
  }

  /** A probe found a target that was out of rotation answering again: put it back. */
  private async targetUp(name: string, address: string): Promise<void> {
    const down = this.down.get(name);
    if (!down?.delete(address)) return;
    if (down.size === 0) this.down.delete(name);
    await this.commit().catch((err) => this.log.error({ err: (err as Error).message }, 'route update failed'));
  }

  /** Drops passive-health state of targets a service no longer has. */
  private forgetDown(name: string, keep: readonly string[]): void {
    const down = this.down.get(name);
    if (!down) return;
    for (const address of down) {
      if (keep.includes(address)) continue;
      down.delete(address);
      this.recovery.stop(name, address);
    }
    if (down.size === 0) this.down.delete(name);
  }
}
