import type { CommandIo } from '../contracts/command-io.js';
import { parseDurationMs } from '../config/duration.js';
import type { CronRepository, CronRun } from '../state/cron-repository.js';
import type { Release } from '../state/releases-repository.js';
import { CronErrors } from './cron-errors.js';
import type { CronRunner } from './cron-runner.js';
import { liveTasks } from './cron-scheduler.js';
import { type CronTask, parseSchedule } from './cron-task.js';

export interface CronTaskView {
  id: string;
  app: string;
  schedule: string;
  command: string;
  concurrencyPolicy: CronTask['concurrencyPolicy'];
  maintenance: boolean;
  timezone: string;
  /** suspended by cron:suspend (the task or the whole app) */
  suspended: boolean;
  /** the next scheduled run; null while suspended or in maintenance */
  nextRun: string | null;
  lastRun: Pick<CronRun, 'id' | 'release' | 'trigger' | 'startedAt' | 'finishedAt' | 'result' | 'exitCode'> | null;
}

export interface CronReport {
  app: string;
  tasks: number;
  suspended: boolean;
  suspendedTasks: string[];
  /** seconds a run may take */
  timeout: number;
  running: number;
  release: number | null;
}

export interface CronServiceDeps {
  apps: () => string[];
  current: (app: string) => Release | undefined;
  repo: CronRepository;
  runner: Pick<CronRunner, 'start' | 'follow'>;
  timeoutOf: (app: string) => number;
  setTimeoutOf: (app: string, seconds: number | null) => void;
}

const MAX_TIMEOUT_MS = 7 * 86_400_000;

/** The `cron:` commands: tasks of the live release, runs on demand, suspend and resume, the time limit. */
export class CronService {
  constructor(private readonly deps: CronServiceDeps) {}

  list(app: string): CronTaskView[] {
    const { tasks } = liveTasks(this.deps, app);
    const suspended = this.deps.repo.suspended(app);
    const last = this.deps.repo.lastRuns(app);
    return tasks.map((t) => {
      const off = suspended.has('*') || suspended.has(t.id);
      const r = last.get(t.id);
      return {
        id: t.id,
        app,
        schedule: t.schedule,
        command: t.command,
        concurrencyPolicy: t.concurrencyPolicy,
        maintenance: t.maintenance,
        timezone: t.timezone,
        suspended: off,
        nextRun: off || t.maintenance ? null : (parseSchedule(t.schedule, t.timezone).nextRun()?.toISOString() ?? null),
        lastRun: r
          ? {
              id: r.id,
              release: r.release,
              trigger: r.trigger,
              startedAt: r.startedAt,
              finishedAt: r.finishedAt,
              result: r.result,
              exitCode: r.exitCode,
            }
          : null,
      };
    });
  }

  listAll(): CronTaskView[] {
    return this.deps.apps().flatMap((a) => this.list(a));
  }

  /**
   * `cron:run`: one run now, on the live release, under the task's concurrency policy. Attached:
   * its output streams to the caller and its exit code is returned (the client going away leaves
   * the run going). Detached: the run's id is printed.
   */
  async run(app: string, id: string, by: string, detach: boolean, io: Pick<CommandIo, 'stdout' | 'stderr' | 'signal'>): Promise<number> {
    const { release, task } = this.task(app, id);
    const outcome = await this.deps.runner.start(app, task, release, `cron:run by ${by}`);
    if (outcome.skipped) throw CronErrors.busy(`task ${id} of '${app}' was not run: ${outcome.reason}`);
    const { run } = outcome;
    if (detach) {
      io.stdout.write(`Started run #${run.id} of task ${id} on v${release.version} (output: paas logs ${app} -p cron)\n`);
      return 0;
    }
    const code = await this.deps.runner.follow(run, io.stdout, io.stderr, io.signal);
    return code ?? 1;
  }

  suspend(app: string, id: string | null): string {
    if (id !== null) this.task(app, id);
    this.deps.repo.suspend(app, id ?? '*', new Date().toISOString());
    return id === null
      ? `Cron of ${app} suspended: no task runs on schedule until cron:resume ${app} (running ones finish)`
      : `Task ${id} of ${app} suspended (running runs finish)`;
  }

  resume(app: string, id: string | null): string {
    if (id !== null) this.task(app, id);
    this.deps.repo.resume(app, id);
    if (id === null) return `Cron of ${app} resumed: every task runs on schedule again`;
    return this.deps.repo.suspended(app).has('*')
      ? `Task ${id} of ${app} resumed; the app's cron stays suspended (cron:resume ${app})`
      : `Task ${id} of ${app} resumed`;
  }

  report(app: string): CronReport {
    const { release, tasks } = liveTasks(this.deps, app);
    const suspended = this.deps.repo.suspended(app);
    return {
      app,
      tasks: tasks.length,
      suspended: suspended.has('*'),
      suspendedTasks: [...suspended].filter((t) => t !== '*'),
      timeout: this.deps.timeoutOf(app),
      running: this.deps.repo.running().filter((r) => r.app === app).length,
      release: release?.version ?? null,
    };
  }

  /** `cron:set [app] timeout DURATION` (no value: back to the default 24 h); returns the seconds now in force. */
  set(app: string, key: string, value: string | undefined): number {
    if (key !== 'timeout') throw CronErrors.usage(`unknown cron setting '${key.slice(0, 40)}' (settable: timeout)`);
    if (value === undefined || value === '') {
      this.deps.setTimeoutOf(app, null);
      return this.deps.timeoutOf(app);
    }
    const ms = parseDurationMs(value, MAX_TIMEOUT_MS);
    if (ms === null || ms < 1000)
      throw CronErrors.usage(`timeout must be a duration from 1s to 168h, like 90s, 30m or 2h (got '${value.slice(0, 40)}')`);
    this.deps.setTimeoutOf(app, Math.ceil(ms / 1000));
    return this.deps.timeoutOf(app);
  }

  private task(app: string, id: string): { release: Release; task: CronTask } {
    const { release, tasks } = liveTasks(this.deps, app);
    const task = tasks.find((t) => t.id === id);
    if (!release || !task)
      throw CronErrors.notFound(`app '${app}' has no cron task '${id.slice(0, 80)}' in its live release (cron:list ${app})`);
    return { release, task };
  }
}
