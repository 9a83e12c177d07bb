import type { Writable } from 'node:stream';
import type { Identity } from '../contracts/command-io.js';
import type { AppSettingsStore } from '../deploy/app-settings-store.js';
import { DeployErrors } from '../deploy/deploy-errors.js';
import type { ContainerInfo, RuntimePort } from '../deploy/adapter-interfaces.js';
import type { ReleaseManager } from '../deploy/release-manager.js';
import type { Rollout } from '../deploy/rollout.js';
import { StageOutput } from '../deploy/stage-output.js';
import type { RestartSpec } from '../runtime/container-spec.js';
import type { ContainerStats } from '../runtime/container-stats.js';
import type { Release, ReleasesRepository } from '../state/releases-repository.js';
import { type Locks, underLock } from '../deploy/app-locks.js';
import { type ConvergeDeps, convergeTo, formatFormation } from '../deploy/converge-to.js';
import { ProcessErrors } from './process-errors.js';
import { RESTART_POLICIES } from '../deploy/settings-schema.js';

export interface ProcessDeps extends ConvergeDeps {
  releases: Pick<ReleasesRepository, 'current' | 'list' | 'get' | 'update'>;
  settings: Pick<AppSettingsStore, 'get' | 'write'>;
  activator: Pick<ReleaseManager, 'activate'>;
  rollout: Pick<Rollout, 'converge' | 'release' | 'stopAll'>;
  runtime: Pick<RuntimePort, 'list'> & { stats(id: string): Promise<ContainerStats> };
  locks: Locks;
}

/** One row of `ps:report`. */
export interface ContainerReport {
  id: string;
  name: string;
  process: string;
  replica: number;
  release: number;
  state: string;
  oneOff: boolean;
  ip: string | null;
  startedAt: string | null;
  uptimeSeconds: number | null;
  restarts: number;
  cpuPercent: number | null;
  memoryBytes: number | null;
  memoryLimitBytes: number | null;
  /** the Swarm node of a replica on the Swarm scheduler (absent for local containers) */
  node?: string | null;
}

export interface ProcessStatus {
  release: number | null;
  stopped: boolean;
  formation: Record<string, number>;
  /** false when app.json `formation` sets process types (`fixedBy`): ps:scale refuses those */
  canScale: boolean;
  fixedBy: string[];
  containers: ContainerReport[];
}

/** `POLICY` or `on-failure:N`: the policies the setting accepts (settings-schema.ts), and a retry count for on-failure only */
const RESTART_RE = new RegExp(`^(${RESTART_POLICIES.join('|')})(?::(\\d{1,4}))?$`);

/** Process control: zero-downtime restart, stop (kept stopped until start), start, report, and per-app process settings. */
export class ProcessService {
  constructor(private readonly deps: ProcessDeps) {}

  isStopped(app: string): boolean {
    return this.deps.settings.get(app, 'stopped') !== null;
  }

  private live(app: string): Release {
    const live = this.deps.releases.current(app);
    if (!live) throw DeployErrors.noRelease(app);
    return live;
  }

  /** A fresh set of containers of the live release, or of the newest pending release (config:set --no-restart). */
  restart(app: string, out: Writable, signal: AbortSignal): Promise<Release> {
    const d = this.deps;
    return underLock(d.locks, app, 'a restart', out, signal, async () => {
      const live = this.live(app);
      if (this.isStopped(app)) throw ProcessErrors.stopped(`app '${app}' is stopped: start it with ps:start ${app}`);
      const stage = new StageOutput(out);
      const pending = d.releases.list(app, 50).find((r) => r.version > live.version && r.status === 'pending' && r.image);
      if (pending) {
        stage.stage('restart', `Restarting ${app} with v${pending.version} (${pending.description})`);
        d.releases.update(app, pending.version, { formation: d.formation.all(app), status: 'deploying' });
        const r = d.releases.get(app, pending.version)!;
        try {
          await d.activator.activate(app, r, stage, signal);
        } catch (err) {
          d.releases.update(app, pending.version, { status: 'pending' });
          throw err;
        }
        stage.end();
        return r;
      }
      stage.stage('restart', `Restarting ${app} v${live.version}`);
      await d.rollout.release(app, { ...live, formation: d.formation.all(app) }, stage, signal);
      stage.end();
      return live;
    });
  }

  /** Stops every container and removes the route; the formation is saved for ps:start and recovery keeps the app stopped. */
  stop(app: string, out: Writable, signal: AbortSignal): Promise<{ already: boolean; stopped: number }> {
    const d = this.deps;
    return underLock(d.locks, app, 'a stop', out, signal, async () => {
      if (this.isStopped(app)) return { already: true, stopped: 0 };
      const saved = d.formation.all(app);
      d.settings.write(app, 'stopped', saved);
      d.formation.replace(app, Object.fromEntries(Object.keys(saved).map((p) => [p, 0])));
      const stage = new StageOutput(out);
      const running = await this.ownContainers(app);
      stage.stage('stop', `Stopping ${running.length} container(s) of ${app}`);
      if (d.releases.current(app)) {
        // converging to zero also takes the app out of the proxy; stops that failed are retried once
        await d.rollout.converge(app, stage, signal, running);
        await d.rollout.stopAll(await this.ownContainers(app), 10);
      } else {
        await d.rollout.stopAll(running, 10);
      }
      stage.end();
      return { already: false, stopped: running.length };
    });
  }

  /** Restores the formation saved by ps:stop (or starts missing replicas), health-gated. */
  start(app: string, out: Writable, signal: AbortSignal): Promise<Record<string, number>> {
    const d = this.deps;
    return underLock(d.locks, app, 'a start', out, signal, async () => {
      this.live(app);
      const before = d.formation.all(app);
      const formation = d.settings.get(app, 'stopped') ?? before;
      const stage = new StageOutput(out);
      stage.stage('start', `Starting ${app}: ${formatFormation(formation)}`);
      await convergeTo(d, app, formation, before, stage, signal);
      d.settings.write(app, 'stopped', null);
      stage.end();
      return formation;
    });
  }

  async status(app: string): Promise<ProcessStatus> {
    const list = (await this.deps.runtime.list({ app })).sort((a, b) => a.process.localeCompare(b.process) || a.replica - b.replica);
    const containers = await Promise.all(list.map((c) => this.reportOf(c)));
    const fixedBy = this.deps.settings.get(app, 'formation.appjson');
    return {
      release: this.deps.releases.current(app)?.version ?? null,
      stopped: this.isStopped(app),
      formation: this.deps.formation.all(app),
      canScale: fixedBy.length === 0,
      fixedBy,
      containers,
    };
  }

  /** `ps:set max-replicas N` (admin keys: it caps what developers may scale to) or `ps:set restart-policy no|always|unless-stopped|on-failure[:N]`, stored under the app lock. */
  async set(app: string, key: string, value: string, by: Identity, out: Writable, signal: AbortSignal): Promise<void> {
    const d = this.deps;
    let write: () => void;
    if (key === 'max-replicas') {
      if (by.role !== 'admin') throw ProcessErrors.forbidden("'ps:set max-replicas' needs an admin key");
      if (!/^\d{1,4}$/.test(value) || Number(value) < 1 || Number(value) > 1000)
        throw ProcessErrors.badSetting(`max-replicas must be a whole number from 1 to 1000, got '${value}'`);
      write = () => d.settings.write(app, 'max-replicas', Number(value));
    } else if (key === 'restart-policy') {
      const m = RESTART_RE.exec(value);
      if (!m || (m[2] !== undefined && m[1] !== 'on-failure'))
        throw ProcessErrors.badSetting(`restart-policy must be ${RESTART_POLICIES.join(', ')} or on-failure:N, got '${value}'`);
      const policy = m[1] as RestartSpec['policy'];
      write = () =>
        d.settings.write(app, 'restart-policy', policy === 'on-failure' ? { policy, maxRetries: Number(m[2] ?? 10) } : { policy });
    } else {
      throw ProcessErrors.badSetting(`unknown setting '${key}' (use max-replicas or restart-policy)`);
    }
    return underLock(d.locks, app, 'a ps:set', out, signal, async () => write());
  }

  private async ownContainers(app: string): Promise<ContainerInfo[]> {
    return (await this.deps.runtime.list({ app })).filter((c) => !c.oneOff);
  }

  private async reportOf(c: ContainerInfo): Promise<ContainerReport> {
    const stats = c.state === 'running' ? await this.deps.runtime.stats(c.id).catch(() => null) : null;
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
      ...(c.node === undefined ? {} : { node: c.node }),
    };
  }
}
