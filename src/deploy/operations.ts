import type { Readable, Writable } from 'node:stream';
import { AppError } from '../errors/app-error.js';
import type { HealthCheckSettings } from './app-json.js';
import type { Logger } from '../log/logger.js';
import type { AppOperations, ContainerReport, ContainerView, RunIo } from '../plugin-host/services.js';
import type { ContainerRuntime } from '../runtime/container-runtime.js';
import { LogStream } from '../runtime/log-stream.js';
import type { Release } from '../state/releases-repository.js';
import type { State } from '../state/state.js';
import type { AppLocks } from './app-locks.js';
import type { AppManager } from './app-manager.js';
import { DeployErrors } from './deploy-errors.js';
import { DomainManager } from './domain-manager.js';
import { DEFAULT_MAX_REPLICAS } from './operation-inputs.js';
import type { ReleaseManager } from './release-manager.js';
import type { Rollout } from './rollout.js';
import { MAX_REPLICAS_KEY, STOPPED_KEY } from './setting-keys.js';
import { StageOutput } from './stage-output.js';

const E = {
  notDeployed: (app: string) => DeployErrors.noRelease(app),
  stopped: (app: string) => new AppError('PAAS_ERR_OPS_STOPPED', `app '${app}' is stopped: start it with ps:start ${app}`),
  noTarget: (app: string) => new AppError('PAAS_ERR_ROLLBACK_NO_TARGET', `app '${app}' has no earlier release to roll back to`),
};

/**
 * The day-to-day operations (config, releases, scale, ps, logs, run, domains). Everything that
 * changes what runs takes the app lock and goes through ReleaseManager / Rollout, so it is
 * health-gated through the proxy like a push.
 *
 * `config:set --no-restart` stores the new config and records a release with status `pending`
 * (same image, new config, not rolled out). The next rollout picks it up: a push builds with the
 * stored config, `ps:restart` activates the newest pending release, and any later config change
 * derives from the stored config.
 */
export class OperationsManager implements AppOperations {
  constructor(
    private readonly state: State,
    private readonly runtime: ContainerRuntime,
    private readonly rollout: Rollout,
    private readonly releases: ReleaseManager,
    private readonly locks: AppLocks,
    private readonly apps: AppManager,
    log: Logger,
    private readonly domains = new DomainManager(state, rollout, locks, apps, log),
  ) {}

  containers(app: string): Promise<ContainerView[]> {
    return this.apps.containers(app);
  }

  checks(app: string): HealthCheckSettings {
    return this.rollout.checks(app);
  }

  private lock<T>(app: string, what: string, out: Writable, signal: AbortSignal, fn: () => Promise<T>): Promise<T> {
    return this.locks.withLock(app, what, fn, (holder) => out.write(`-----> Waiting for ${holder} of ${app} to finish\n`), signal);
  }

  private live(app: string): Release {
    const live = this.state.releases.current(app);
    if (!live) throw E.notDeployed(app);
    return live;
  }

  isStopped(app: string): boolean {
    return this.state.appSettings.get(app, STOPPED_KEY) !== undefined;
  }

  // ---- config -------------------------------------------------------------------------------

  /** Sets and unsets config vars; returns the new release (null before the first deploy or when nothing changed). */
  async changeConfig(
    app: string,
    set: Record<string, string>,
    unset: string[],
    opts: { noRestart: boolean },
    out: Writable,
    signal: AbortSignal,
  ): Promise<{ release: Release | null; changed: string[]; rolledOut: boolean }> {
    return this.lock(app, 'a config change', out, signal, async () => {
      const current = this.state.config.all(app);
      const next = { ...current, ...set };
      for (const k of unset) delete next[k];
      const changed = [...new Set([...Object.keys(set), ...unset])].filter((k) => current[k] !== next[k]);
      if (changed.length === 0) return { release: null, changed, rolledOut: false };
      const description = describeConfig(set, unset, changed);
      const live = this.state.releases.current(app);
      if (!live) {
        this.state.config.replace(app, next);
        return { release: null, changed, rolledOut: false };
      }
      if (opts.noRestart || this.isStopped(app)) {
        const r = this.state.releases.create({
          app,
          image: live.image,
          commitSha: live.commitSha,
          description: `${description} (not rolled out)`,
          config: next,
          formation: this.state.formation.all(app),
          status: 'pending',
          builder: live.builder,
          processes: live.processes,
          port: live.port,
        });
        this.state.config.replace(app, next);
        return { release: r, changed, rolledOut: false };
      }
      const stage = new StageOutput(out);
      const r = await this.releases.derive(app, live, { config: next }, description, stage, signal);
      this.state.config.replace(app, next);
      stage.end();
      return { release: r, changed, rolledOut: true };
    });
  }

  // ---- releases -----------------------------------------------------------------------------

  /** Restores image, config and formation of `version` (default: the release live before the current one) in one cutover. */
  async rollback(
    app: string,
    version: number | null,
    out: Writable,
    signal: AbortSignal,
  ): Promise<{ from: number; to: Release; release: Release }> {
    return this.lock(app, 'a rollback', out, signal, async () => {
      const live = this.live(app);
      let target: Release | undefined;
      if (version === null) {
        target = this.state.releases
          .list(app, 10_000)
          .find((r) => r.version < live.version && r.image && (r.status === 'superseded' || r.status === 'live'));
        if (!target) throw E.noTarget(app);
      } else {
        target = this.state.releases.get(app, version);
        if (!target) throw DeployErrors.releaseNotFound(app, `v${version}`);
        if (!target.image)
          throw new AppError('PAAS_ERR_ROLLBACK_NO_IMAGE', `release v${version} of '${app}' never built an image; pick another`);
      }
      if (target.version === live.version) throw new AppError('PAAS_ERR_ROLLBACK_SAME', `v${live.version} is already live`);
      if (!(await this.runtime.imageExists(target.image!))) throw DeployErrors.imageGone(app, target.version, target.image!);
      const formation = Object.keys(target.formation).length ? target.formation : this.state.formation.all(app);
      const stage = new StageOutput(out);
      stage.stage('rollback', `Rolling back ${app} from v${live.version} to v${target.version} (${target.image})`);
      const r = await this.releases.derive(
        app,
        live,
        {
          image: target.image,
          config: target.config,
          formation,
          processes: target.processes,
          port: target.port,
          appChecks: target.appChecks,
        },
        `Rollback to v${target.version}`,
        stage,
        signal,
      );
      this.state.config.replace(app, target.config);
      this.state.formation.replace(app, formation);
      this.state.appSettings.unset(app, STOPPED_KEY);
      stage.end();
      return { from: live.version, to: target, release: r };
    });
  }

  // ---- formation ----------------------------------------------------------------------------

  knownProcesses(app: string): Set<string> | null {
    const live = this.state.releases.current(app);
    if (!live) return null;
    return new Set(['web', ...Object.keys(live.processes), ...Object.keys(live.formation), ...Object.keys(this.state.formation.all(app))]);
  }

  maxReplicas(app: string): number {
    return this.state.appSettings.get<number>(app, MAX_REPLICAS_KEY) ?? DEFAULT_MAX_REPLICAS;
  }

  /** Updates the formation and converges health-gated; on failure the previous formation is restored. */
  async scale(
    app: string,
    changes: Record<string, number>,
    out: Writable,
    signal: AbortSignal,
  ): Promise<{ formation: Record<string, number>; applied: boolean }> {
    return this.lock(app, 'a scale', out, signal, async () => {
      const stopped = this.state.appSettings.get<Record<string, number>>(app, STOPPED_KEY);
      if (stopped) {
        const formation = { ...stopped, ...changes };
        this.state.appSettings.set(app, STOPPED_KEY, formation);
        return { formation, applied: false };
      }
      const before = this.state.formation.all(app);
      const formation = { ...before, ...changes };
      const live = this.state.releases.current(app);
      if (!live) {
        this.state.formation.replace(app, formation);
        return { formation, applied: false };
      }
      const stage = new StageOutput(out);
      stage.stage('scale', `Scaling ${app} to ${fmt(formation)}`);
      await this.convergeTo(app, formation, before, stage, signal);
      this.state.releases.update(app, live.version, { formation });
      stage.end();
      return { formation, applied: true };
    });
  }

  /** Stores `formation` and converges to it health-gated; on failure `before` is stored again and the error rethrown. */
  private async convergeTo(
    app: string,
    formation: Record<string, number>,
    before: Record<string, number>,
    stage: StageOutput,
    signal: AbortSignal,
  ): Promise<void> {
    this.state.formation.replace(app, formation);
    try {
      await this.rollout.converge(app, stage, signal);
    } catch (err) {
      this.state.formation.replace(app, before);
      throw err;
    }
  }

  // ---- ps -----------------------------------------------------------------------------------

  /** Zero-downtime restart: a fresh set of containers of the live release (or of the newest pending release). */
  async restart(app: string, out: Writable, signal: AbortSignal): Promise<Release> {
    return this.lock(app, 'a restart', out, signal, async () => {
      const live = this.live(app);
      if (this.isStopped(app)) throw E.stopped(app);
      const stage = new StageOutput(out);
      const pending = this.state.releases.list(app, 50).find((r) => r.version > live.version && r.status === 'pending' && r.image);
      if (pending) {
        stage.stage('restart', `Restarting ${app} with v${pending.version} (${pending.description})`);
        this.state.releases.update(app, pending.version, { formation: this.state.formation.all(app), status: 'deploying' });
        const r = this.state.releases.get(app, pending.version)!;
        try {
          await this.releases.activate(app, r, stage, signal);
        } catch (err) {
          this.state.releases.update(app, pending.version, { status: 'pending' });
          throw err;
        }
        stage.end();
        return r;
      }
      stage.stage('restart', `Restarting ${app} v${live.version}`);
      await this.rollout.release(app, { ...live, formation: this.state.formation.all(app) }, stage, signal);
      stage.end();
      return live;
    });
  }

  /** Stops every container and removes the route; recovery keeps it stopped (formation is zero, saved for ps:start). */
  async stop(app: string, out: Writable, signal: AbortSignal): Promise<{ already: boolean; stopped: number }> {
    return this.lock(app, 'a stop', out, signal, async () => {
      if (this.isStopped(app)) return { already: true, stopped: 0 };
      const saved = this.state.formation.all(app);
      const zero = Object.fromEntries(Object.keys(saved).map((p) => [p, 0]));
      this.state.appSettings.set(app, STOPPED_KEY, saved);
      this.state.formation.replace(app, zero);
      const stage = new StageOutput(out);
      const running = (await this.runtime.list({ app })).filter((c) => !c.oneOff);
      stage.stage('stop', `Stopping ${running.length} container(s) of ${app}`);
      if (this.state.releases.current(app)) {
        // converging to zero also takes the app out of the proxy; stops that failed are retried once
        await this.rollout.converge(app, stage, signal, running);
        const left = (await this.runtime.list({ app })).filter((c) => !c.oneOff);
        await this.rollout.stopAll(left, 10);
      } else {
        await this.rollout.stopAll(running, 10);
      }
      stage.end();
      return { already: false, stopped: running.length };
    });
  }

  /** Restores the formation saved by ps:stop (or starts missing replicas) health-gated. */
  async start(app: string, out: Writable, signal: AbortSignal): Promise<Record<string, number>> {
    return this.lock(app, 'a start', out, signal, async () => {
      this.live(app);
      const saved = this.state.appSettings.get<Record<string, number>>(app, STOPPED_KEY);
      const before = this.state.formation.all(app);
      const formation = saved ?? before;
      const stage = new StageOutput(out);
      stage.stage('start', `Starting ${app}: ${fmt(formation)}`);
      await this.convergeTo(app, formation, before, stage, signal);
      this.state.appSettings.unset(app, STOPPED_KEY);
      stage.end();
      return formation;
    });
  }

  async report(app: string): Promise<ContainerReport[]> {
    const list = (await this.runtime.list({ app })).sort((a, b) => a.process.localeCompare(b.process) || a.replica - b.replica);
    return Promise.all(
      list.map(async (c) => {
        const stats = c.state === 'running' ? await this.runtime.stats(c.id).catch(() => null) : null;
        const uptime = c.state === 'running' && c.startedAt ? Math.max(0, Math.round((Date.now() - Date.parse(c.startedAt)) / 1000)) : null;
        return {
          id: c.id.slice(0, 12),
          name: c.name,
          process: c.process,
          replica: c.replica,
          release: c.release,
          state: c.state,
          oneOff: c.oneOff,
          ip: c.ip,
          startedAt: c.startedAt,
          uptimeSeconds: uptime,
          restarts: c.restartCount,
          cpuPercent: stats?.cpuPercent ?? null,
          memoryBytes: stats?.memoryBytes ?? null,
          memoryLimitBytes: stats?.memoryLimitBytes ?? null,
        };
      }),
    );
  }

  // ---- logs and run -------------------------------------------------------------------------

  /** Merged logs prefixed `process.replica`; following picks up containers started later (deploys, scale) until the signal aborts. */
  async logs(
    app: string,
    opts: { follow: boolean; lines: number; process: string | null },
    out: Writable,
    signal: AbortSignal,
  ): Promise<void> {
    const pick = async () =>
      (await this.runtime.list({ app, ...(opts.process ? { process: opts.process } : {}) })).filter((c) => !c.oneOff);
    const first = await pick();
    const stream = this.runtime.streamLogs(
      first.map((c) => c.id),
      { follow: opts.follow, tail: opts.lines },
      signal,
    );
    let poll: NodeJS.Timeout | null = null;
    if (opts.follow) {
      const seen = new Set(first.map((c) => c.id));
      poll = setInterval(() => {
        void pick()
          .then((cs) => {
            for (const c of cs) {
              if (seen.has(c.id)) continue;
              seen.add(c.id);
              stream.add(c.id, 'all');
            }
          })
          .catch(() => undefined);
      }, 1000);
    }
    try {
      for await (const l of stream) {
        if (signal.aborted) break;
        out.write(`${LogStream.format(l)}\n`);
      }
    } finally {
      if (poll) clearInterval(poll);
      stream.close();
    }
  }

  /** A one-off container of the live release with its config; returns its exit code. */
  async run(app: string, command: string, io: RunIo): Promise<number> {
    const live = this.live(app);
    const base = this.rollout.spec(app, live, 'run', 0);
    const env = { ...base.env, ...(io.pty ? { TERM: io.pty.term || 'xterm' } : {}) };
    const spec = { ...base, env, command, restart: { policy: 'no' as const } };
    let unsubscribed = false;
    return this.runtime.runOneOff(spec, {
      tty: io.pty !== null,
      stdin: io.stdin as Readable,
      stdout: io.stdout,
      stderr: io.stderr,
      signal: io.signal,
      ...(io.pty
        ? {
            initialSize: { cols: io.pty.cols, rows: io.pty.rows },
            onResize: (listener) => {
              io.pty!.onResize((cols, rows) => {
                if (!unsubscribed) listener({ cols, rows });
              });
              return () => {
                unsubscribed = true;
              };
            },
          }
        : {}),
    });
  }

  addDomain(app: string, input: string): Promise<string> {
    return this.domains.add(app, input);
  }

  removeDomain(app: string, input: string): Promise<string> {
    return this.domains.remove(app, input);
  }

  setGlobalDomain(input: string): Promise<{ domain: string; rerouted: string[]; failed: string[] }> {
    return this.domains.setGlobal(input);
  }
}

export function fmt(formation: Record<string, number>): string {
  return (
    Object.entries(formation)
      .map(([p, n]) => `${p}=${n}`)
      .join(' ') || '(no processes)'
  );
}

function describeConfig(set: Record<string, string>, unset: string[], changed: string[]): string {
  const s = Object.keys(set).filter((k) => changed.includes(k));
  const u = unset.filter((k) => changed.includes(k));
  return [s.length ? `Set ${s.join(', ')}` : '', u.length ? `Unset ${u.join(', ')}` : ''].filter(Boolean).join('; ');
}
