import type { Logger } from '../log/logger.js';
import { sleep } from '../util/sleep.js';
import type { HealthCheckSettings } from './app-json.js';
import { DeployErrors } from './deploy-errors.js';
import type { ContainerInfo, ProxyDeploySpec, ProxyPort, RuntimePort } from './adapter-interfaces.js';
import type { StageOutput } from './stage-output.js';

/** Seconds a new web container may refuse every connection on its port, while it stays up, before the deploy fails with a hint. */
export const REFUSED_LIMIT_S = 20;
const LOG_LINES = 20;
const LONG_MS = 24 * 3600_000;

/** One change of what serves an app: containers just started, the web set to route to, and the one to go back to. */
export interface CutoverPlan {
  app: string;
  /** containers started for this change: watched for crashes until the stability window ends */
  fresh: ContainerInfo[];
  /** the web containers traffic goes to (empty: the app gets no routes) */
  next: ContainerInfo[];
  /** the web containers that served before: traffic returns to them if the change fails (empty: none) */
  previous: ContainerInfo[];
  checks: HealthCheckSettings;
  proxySpec(targets: string[]): ProxyDeploySpec;
  /** runs once traffic is on the new containers, while the previous ones are still warm (postdeploy); throwing switches back */
  afterSwitch?: (signal: AbortSignal) => Promise<void>;
}

const address = (c: ContainerInfo) => `${c.ip}:${c.port}`;

/** The runtime's crash of `c` as the deploy's crash error; any other error as it is. */
const asCrash = (c: ContainerInfo, err: Error & { code?: string }): Error =>
  err.code === 'PAAS_ERR_RUNTIME_CRASHED' ? DeployErrors.crashed(`${c.name}: ${err.message}`, err) : err;

/**
 * Fast cutover, all or nothing: traffic moves as soon as every new web container accepts
 * connections (and, with a health path, answers it through the proxy's gate); the previous
 * containers stay warm for the stability window (`checks:set wait=`, default 2 s), during which
 * `afterSwitch` runs. A new container that dies before the window ends, or a failing
 * `afterSwitch`, sends traffic back to the previous containers and fails the change. The caller
 * removes the new containers on failure and retires the previous ones on success.
 */
export class Cutover {
  constructor(
    private readonly runtime: RuntimePort,
    private readonly proxy: ProxyPort,
    private readonly log: Logger,
  ) {}

  async run(plan: CutoverPlan, out: StageOutput | null, signal: AbortSignal): Promise<void> {
    const watch = new AbortController();
    const onAbort = () => watch.abort();
    signal.addEventListener('abort', onAbort, { once: true });
    const crashed = this.crashWatch(plan.fresh, watch.signal);
    crashed.catch(() => {});
    try {
      await Promise.race([this.listening(plan, out, signal), crashed]);
      const switching = this.switchTo(plan, out);
      try {
        await Promise.race([switching, crashed]);
      } catch (err) {
        // the proxy may still swap to the new set after the crash: queue the way back behind it
        void switching.then(
          () => this.switchBack(plan, null),
          () => undefined,
        );
        throw err;
      }
      if (plan.fresh.length === 0) return;
      try {
        await Promise.race([this.window(plan, out, watch.signal), crashed]);
      } catch (err) {
        await this.switchBack(plan, out);
        throw err;
      }
    } finally {
      signal.removeEventListener('abort', onAbort);
      watch.abort();
    }
  }

  /** Every fresh web container accepts connections on its port; a port that only refuses, while up, fails with a hint. */
  private async listening(plan: CutoverPlan, out: StageOutput | null, signal: AbortSignal): Promise<void> {
    const web = plan.fresh.filter((c) => c.process === 'web');
    if (web.length === 0) return;
    const timeoutMs = plan.proxySpec([]).deployTimeoutMs ?? 60_000;
    const deadline = Date.now() + timeoutMs;
    out?.stage('boot', `Waiting for ${web.length} web container(s) to accept connections on port ${web[0]!.port}`);
    await Promise.all(
      web.map(async (c) => {
        const r = await this.runtime.waitListening(c, { deadline, refusedForMs: REFUSED_LIMIT_S * 1000, signal });
        if (r === 'listening') return;
        if (r === 'aborted') throw DeployErrors.cancelled();
        await this.crashedNow(c);
        const logs = await this.logs(c);
        if (r === 'refused') throw DeployErrors.notListening(c.name, c.port, REFUSED_LIMIT_S, logs);
        throw DeployErrors.unhealthy(`${c.name} did not accept connections on port ${c.port} within ${timeoutMs / 1000} s${logs}`);
      }),
    );
  }

  private async switchTo(plan: CutoverPlan, out: StageOutput | null): Promise<void> {
    if (plan.next.length === 0) {
      await this.proxy.remove(plan.app).catch(() => undefined);
      return;
    }
    const path = plan.checks.path;
    out?.stage(
      'route',
      `Health-checking ${path ? `GET ${path}` : 'the port'} and switching traffic to ${plan.next.length} web container(s)`,
    );
    const r = await this.proxy.deploy(plan.app, plan.proxySpec(plan.next.map(address))).catch(async (err) => {
      const first = plan.fresh.find((c) => c.process === 'web');
      throw DeployErrors.unhealthy(`${(err as Error).message}${first ? await this.logs(first) : ''}`, err);
    });
    out?.info(`traffic switched; old targets drained in ${r.drainedMs} ms`);
  }

  /** The stability window: the previous containers stay warm while `afterSwitch` runs and the new ones must stay up. `signal` also ends on a crash. */
  private async window(plan: CutoverPlan, out: StageOutput | null, signal: AbortSignal): Promise<void> {
    const wait = plan.checks.wait;
    const warm = plan.previous.length ? `the previous ${plan.previous.length} web container(s) stay warm` : 'nothing served before';
    out?.stage('watch', `Watching ${plan.fresh.length} new container(s) for ${wait} s (${warm})`);
    await Promise.all([sleep(wait * 1000, signal), plan.afterSwitch?.(signal)]);
    if (signal.aborted) throw DeployErrors.cancelled();
  }

  /** Traffic back to the previous web containers (none: the app's routes go). Logged, never thrown: the failure that caused it is what the user sees. */
  private async switchBack(plan: CutoverPlan, out: StageOutput | null): Promise<void> {
    const prev = plan.previous.filter((c) => c.ip);
    out?.stage('rollback', prev.length ? `Switching traffic back to the previous ${prev.length} web container(s)` : 'Removing the routes');
    try {
      if (prev.length) {
        const r = await this.proxy.deploy(plan.app, plan.proxySpec(prev.map(address)));
        out?.info(`traffic switched back; new targets drained in ${r.drainedMs} ms`);
      } else await this.proxy.remove(plan.app);
    } catch (err) {
      this.log.error({ err, app: plan.app }, 'switching traffic back failed');
      out?.info(`could not switch traffic back: ${(err as Error).message}`);
    }
  }

  /** Rejects when a fresh container exits or restarts; never resolves otherwise (ends quietly when `signal` aborts). */
  private crashWatch(fresh: ContainerInfo[], signal: AbortSignal): Promise<never> {
    return new Promise<never>((_, reject) => {
      for (const c of fresh)
        this.runtime.waitUp(c.id, LONG_MS, signal).then(
          () => undefined,
          (err: Error & { code?: string }) => {
            if (signal.aborted) return;
            reject(asCrash(c, err));
          },
        );
    });
  }

  /**
   * Throws the crash when the container has exited or restarted: a container that dies on boot
   * may never get an address, so its port check ends at once, before the crash watch reports.
   */
  private async crashedNow(c: ContainerInfo): Promise<void> {
    await this.runtime.waitUp(c.id, 0).catch((err: Error & { code?: string }) => {
      throw asCrash(c, err);
    });
  }

  private async logs(c: ContainerInfo): Promise<string> {
    const text = await this.runtime.logsTail(c.id, LOG_LINES).catch(() => '');
    return text ? `\nLast ${LOG_LINES} log lines of ${c.name}:\n${text}` : '';
  }
}
