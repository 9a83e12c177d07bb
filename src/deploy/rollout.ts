import type { Logger } from '../log/logger.js';
import type { Release } from '../state/releases-repository.js';
import { DEFAULT_CHECKS, type HealthCheckSettings } from './app-json.js';
import { Cutover } from './cutover.js';
import { DeployErrors } from './deploy-errors.js';
import type { ContainerInfo, ContainerSpec, ProxyDeploySpec, ProxyPort, RolloutStore, RuntimePort } from './adapter-interfaces.js';
import type { AppSettingsSnapshot } from './settings-schema.js';
import type { StageOutput } from './stage-output.js';
import { checkBinds } from './storage-mounts.js';
import type { WarmReleases } from './warm-release.js';

/** Failures of thawed warm containers after which a rollback starts containers instead. */
const WARM_FALLBACK = new Set(['PAAS_ERR_DEPLOY_UNHEALTHY', 'PAAS_ERR_DEPLOY_CRASHED', 'PAAS_ERR_DEPLOY_NOT_LISTENING']);

export const DEFAULT_PORT = 5000;

/** The routed containers of a set: web, running, with an address. */
const webOf = (cs: ContainerInfo[]) => cs.filter((c) => c.process === 'web' && c.ip && (c.state === 'running' || c.state === 'restarting'));

/**
 * Puts containers behind the proxy safely. `release()` replaces every container of an app with
 * those of a release (blue-green); `converge()` makes the current release's containers match
 * the desired formation (scale, recovery). Both start new containers and hand them to the
 * cutover (cutover.ts: switch as soon as they listen, keep the old warm for the stability
 * window, switch back if a new one dies), and only then stop what is no longer wanted. On any
 * failure the new containers are removed and the old keep serving.
 */
export class Rollout {
  constructor(
    private readonly store: RolloutStore,
    private readonly runtime: RuntimePort,
    proxy: ProxyPort,
    private readonly log: Logger,
    /** the previous release kept warm for an instant rollback (absent: none is) */
    private readonly warm?: WarmReleases,
  ) {
    this.cutover = new Cutover(runtime, proxy, log);
  }

  private readonly cutover: Cutover;

  /**
   * The health check for a release (default: the live one): paas defaults, then the release's
   * app.json healthchecks, then `checks:set`. Databases from before per-release checks fall back
   * to the app-level 'checks.appjson' setting.
   */
  checks(app: string, release: Release | undefined = this.store.current(app), settings = this.store.settings(app)): HealthCheckSettings {
    const fromAppJson = (release?.appChecks as Partial<HealthCheckSettings> | null) ?? settings['checks.appjson'];
    return { ...DEFAULT_CHECKS, ...fromAppJson, ...settings.checks };
  }

  hosts(app: string): string[] {
    return this.store.hosts(app);
  }

  /** Whether `c` is a container of live release `live` (its own, or a warm one a rollback adopted). */
  serves(app: string, live: Release, c: ContainerInfo): boolean {
    return c.release === live.version || (this.warm?.adopted(app, live.version).has(c.id) ?? false);
  }

  /** What the proxy gets for an app: its hosts, the web targets, and the health gate from `checks`. */
  proxySpec(
    app: string,
    targets: string[],
    checks: HealthCheckSettings = this.checks(app),
    s: AppSettingsSnapshot = this.store.settings(app),
  ): ProxyDeploySpec {
    const paused = s['paused-until'];
    return {
      hosts: this.hosts(app),
      targets,
      healthCheck: { path: checks.path, intervalMs: 1000, timeoutMs: checks.timeout * 1000 },
      deployTimeoutMs: Math.max(5, checks.wait + checks.attempts) * 1000,
      drainTimeoutMs: 30_000,
      ...(s['max-body-size'] !== null ? { maxBodyBytes: s['max-body-size'] } : {}),
      controls: {
        ...(s.maintenance !== null ? { maintenance: s.maintenance } : {}),
        ...(paused !== null && paused > Date.now() ? { pausedUntil: paused } : {}),
      },
    };
  }

  /** The container of one replica, from one settings snapshot; the runtime adds PORT to the env and defaults the restart policy to on-failure:10. */
  spec(app: string, release: Release, process: string, replica: number, settings: AppSettingsSnapshot): ContainerSpec {
    // binds are checked again every time (symlinks, allowed roots): a refusal throws before this container starts
    checkBinds(app, settings.mounts, this.store.storagePolicy());
    const lim = settings.resources[process] ?? settings.resources['*'] ?? {};
    const memoryBytes = lim.memoryBytes ?? this.store.defaultMemory?.() ?? undefined;
    const restart = settings['restart-policy'];
    return {
      app,
      process,
      release: release.version,
      replica,
      image: release.image!,
      ...(release.processes[process] ? { command: release.processes[process]! } : {}),
      env: { ...release.config },
      port: release.port ?? DEFAULT_PORT,
      ...(restart ? { restart } : {}),
      ...lim,
      ...(memoryBytes === undefined ? {} : { memoryBytes }),
      binds: settings.mounts,
      hardening: settings.hardening,
      ...(settings.placement.length ? { placement: settings.placement } : {}),
    };
  }

  /**
   * Blue-green: all containers of `release` replace all others of the app, through the cutover
   * (cutover.ts). `afterSwitch` (postdeploy) runs while the old containers are still warm.
   * `opts.warm` (a rollback): the web containers come from the warm release when it can serve
   * `release` (warm-release.ts), thawed instead of started; if they fail the health gate, the
   * rollout starts containers as usual. Afterwards the previous live release's web containers are
   * kept warm (paused) for the app's window, and everything else of the app is stopped.
   */
  async release(
    app: string,
    release: Release,
    out: StageOutput,
    signal: AbortSignal,
    afterSwitch?: (signal: AbortSignal) => Promise<void>,
    opts: { warm?: boolean } = {},
  ): Promise<void> {
    await this.runtime.ensureNetwork(app);
    // the app's containers are listed while the new ones start (it saves a round of inspects on
    // the way to the first new request); the new ones are told apart by id
    const listing = this.runtime.list({ app });
    listing.catch(() => undefined);
    let warm: ContainerInfo[] = [];
    if (opts.warm && this.warm) {
      const claimed = this.warm.claim(app, release, await listing);
      if (typeof claimed === 'string') out.info(`${claimed}: starting containers`);
      else warm = claimed;
    }
    if (warm.length) {
      try {
        return await this.rollOut(app, release, out, signal, listing, afterSwitch, warm);
      } catch (err) {
        if (signal.aborted || !WARM_FALLBACK.has((err as { code?: string }).code ?? '')) throw err;
        this.warm?.clear(app);
        out.info(`the warm containers failed (${(err as Error).message.split('\n')[0]}): starting containers`);
        return this.rollOut(app, release, out, signal, this.runtime.list({ app }), afterSwitch, []);
      }
    }
    return this.rollOut(app, release, out, signal, listing, afterSwitch, []);
  }

  private async rollOut(
    app: string,
    release: Release,
    out: StageOutput,
    signal: AbortSignal,
    listing: Promise<ContainerInfo[]>,
    afterSwitch: ((signal: AbortSignal) => Promise<void>) | undefined,
    warm: ContainerInfo[],
  ): Promise<void> {
    const settings = this.store.settings(app);
    const previousLive = this.store.current(app);
    const wanted = Object.entries(release.formation).filter(([, n]) => n > 0);
    out.stage('start', `Starting ${wanted.map(([p, n]) => `${p}=${n}`).join(' ') || 'no processes (formation is empty)'}`);
    const started: ContainerInfo[] = [];
    let old: ContainerInfo[] = [];
    try {
      if (warm.length) {
        started.push(...(await this.warm!.thaw(warm)));
        out.info(`${warm.length} warm web container(s) of v${warm[0]!.release} thawed`);
      }
      for (const [proc, n] of wanted) {
        if (proc === 'web' && warm.length) continue;
        for (let r = 1; r <= n; r++) {
          this.checkAbort(signal);
          const c = await this.runtime.start(this.spec(app, release, proc, r, settings));
          started.push(c);
          out.info(`${c.name} started`);
        }
      }
      old = (await listing).filter((c) => !c.oneOff && !started.some((s) => s.id === c.id));
      const plan = this.plan(app, started, webOf(started), webOf(old), this.checks(app, release, settings), settings);
      await this.cutover.run({ ...plan, ...(afterSwitch ? { afterSwitch } : {}) }, out, signal);
    } catch (err) {
      await this.stopAll(started, 1);
      throw err;
    }
    const keep = await this.keepWarm(app, release, previousLive, old, out);
    this.warm?.adopt(
      app,
      release.version,
      warm.map((c) => c.id),
    );
    const retire = old.filter((c) => !keep.has(c.id));
    if (retire.length) {
      out.stage('retire', `Stopping ${retire.length} old container(s)`);
      await this.stopAll(retire, 10);
    }
    out.end();
  }

  /**
   * After a switch: the previous live release's web containers (drained) are paused and kept warm;
   * a restart of the same release keeps the warm set it had. Returns the ids not to stop.
   */
  private async keepWarm(app: string, release: Release, previous: Release | undefined, old: ContainerInfo[], out: StageOutput) {
    if (!this.warm || !previous) return new Set<string>();
    if (previous.version === release.version) return this.warm.held(app, old);
    const adopted = this.warm.adopted(app, previous.version);
    const web = webOf(old).filter((c) => c.release === previous.version || adopted.has(c.id));
    const parked = await this.warm.park(app, previous.version, web);
    if (parked.length) {
      const until = new Date(this.warm.current(app)?.until ?? Date.now()).toISOString().slice(11, 19);
      out.info(`v${previous.version} stays warm (${parked.length} paused web container(s)) until ${until} UTC for an instant rollback`);
    }
    return new Set(parked.map((c) => c.id));
  }

  /**
   * Makes the running containers of the live release match the formation table. `listed`: the
   * app's containers when the caller has just listed them (saves listing again).
   */
  async converge(
    app: string,
    out: StageOutput | null,
    signal: AbortSignal,
    listed?: ContainerInfo[],
  ): Promise<{ added: ContainerInfo[]; removed: ContainerInfo[] }> {
    const live = this.store.current(app);
    if (!live) return { added: [], removed: [] };
    const settings = this.store.settings(app);
    await this.runtime.ensureNetwork(app);
    const formation = this.store.formation(app);
    const all = (listed ?? (await this.runtime.list({ app }))).filter((c) => !c.oneOff);
    const adopted = this.warm?.adopted(app, live.version) ?? new Set<string>();
    const warm = this.warm?.held(app, all) ?? new Set<string>();
    const mine = all.filter(
      (c) => (c.release === live.version || adopted.has(c.id)) && (c.state === 'running' || c.state === 'restarting'),
    );
    // a warm release is neither a replica nor a stray while its window is open
    const strays = all.filter((c) => !mine.includes(c) && !warm.has(c.id));
    const removed: ContainerInfo[] = [];
    const added: ContainerInfo[] = [];
    const procs = new Set([...Object.keys(formation), ...mine.map((c) => c.process)]);
    try {
      for (const proc of procs) {
        const want = formation[proc] ?? 0;
        const have = mine.filter((c) => c.process === proc).sort((a, b) => a.replica - b.replica);
        removed.push(...have.slice(want));
        const used = new Set(have.slice(0, want).map((c) => c.replica));
        for (let i = have.length, r = 1; i < want; i++) {
          while (used.has(r)) r++;
          used.add(r);
          this.checkAbort(signal);
          const c = await this.runtime.start(this.spec(app, live, proc, r, settings));
          added.push(c);
          out?.info(`${c.name} started`);
        }
      }
      const kept = webOf(mine).filter((c) => !removed.includes(c));
      const plan = this.plan(app, added, [...kept, ...webOf(added)], webOf(mine), this.checks(app, live, settings), settings);
      await this.cutover.run(plan, out, signal);
    } catch (err) {
      await this.stopAll(added, 1);
      throw err;
    }
    await this.stopAll([...removed, ...strays], 10);
    for (const c of removed) out?.info(`${c.name} stopped`);
    return { added, removed };
  }

  private plan(
    app: string,
    fresh: ContainerInfo[],
    next: ContainerInfo[],
    previous: ContainerInfo[],
    checks: HealthCheckSettings,
    settings: AppSettingsSnapshot,
  ) {
    return { app, fresh, next, previous, checks, proxySpec: (targets: string[]) => this.proxySpec(app, targets, checks, settings) };
  }

  private checkAbort(signal: AbortSignal): void {
    if (signal.aborted) throw DeployErrors.cancelled();
  }

  async stopAll(cs: ContainerInfo[], grace: number): Promise<void> {
    await Promise.all(
      cs.map((c) => this.runtime.stop(c.id, grace).catch((err) => this.log.warn({ err, container: c.name }, 'container stop failed'))),
    );
  }
}
