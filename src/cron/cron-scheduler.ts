import { Cron } from 'croner';
import type { Logger } from '../log/logger.js';
import type { CronRepository } from '../state/cron-repository.js';
import type { Release } from '../state/releases-repository.js';
import type { CronRunner } from './cron-runner.js';
import { type CronTask, parseSchedule, withIds } from './cron-task.js';

/** How often the schedule is matched to the live releases (deploys, rollbacks, suspend from another process). */
const RECONCILE_MS = 2000;
/** How often running runs are checked (ended, time limit). */
const CHECK_MS = 1000;

export interface CronSchedulerDeps {
  apps: () => string[];
  /** the live release (never a warm previous one) */
  current: (app: string) => Release | undefined;
  repo: Pick<CronRepository, 'entries' | 'suspended'>;
  runner: Pick<CronRunner, 'start' | 'check'>;
  log: Logger;
}

/** The tasks of the live release of an app, with ids. */
export function liveTasks(deps: Pick<CronSchedulerDeps, 'current' | 'repo'>, app: string): { release: Release | null; tasks: CronTask[] } {
  const live = deps.current(app);
  if (!live?.image) return { release: live ?? null, tasks: [] };
  return { release: live, tasks: withIds(app, deps.repo.entries(app, live.image)) };
}

/**
 * The cron scheduler of the control plane (croner, no system crontab). Every RECONCILE_MS it
 * matches its jobs to the live release of each app: a task starts being scheduled when the release
 * that has it goes live and stops when one without it does (so it follows rollbacks); a job whose
 * task is unchanged across a deploy is kept, so a deploy never doubles or drops a run. Suspended
 * and maintenance tasks are not scheduled. Missed runs (control plane down at the time) are not
 * caught up, as with cron: the next run is the next match after the start.
 */
export class CronScheduler {
  private readonly jobs = new Map<string, Cron>();
  private timers: NodeJS.Timeout[] = [];
  private checking = false;

  constructor(private readonly deps: CronSchedulerDeps) {}

  start(): void {
    this.stop();
    this.reconcile();
    this.timers = [
      setInterval(() => this.reconcile(), RECONCILE_MS),
      setInterval(() => {
        if (this.checking) return;
        this.checking = true;
        void this.deps.runner.check().finally(() => {
          this.checking = false;
        });
      }, CHECK_MS),
    ];
    for (const t of this.timers) t.unref();
  }

  /** Stops scheduling; running runs go on (a restarted control plane picks them up). */
  stop(): void {
    for (const t of this.timers) clearInterval(t);
    this.timers = [];
    for (const j of this.jobs.values()) j.stop();
    this.jobs.clear();
  }

  /** The next time a task runs (null: not scheduled here). */
  nextRun(app: string, task: CronTask): string | null {
    return this.jobs.get(jobKey(app, task))?.nextRun()?.toISOString() ?? null;
  }

  reconcile(): void {
    const wanted = new Map<string, { app: string; task: CronTask }>();
    try {
      for (const app of this.deps.apps()) {
        const suspended = this.deps.repo.suspended(app);
        if (suspended.has('*')) continue;
        for (const task of liveTasks(this.deps, app).tasks)
          if (!task.maintenance && !suspended.has(task.id)) wanted.set(jobKey(app, task), { app, task });
      }
    } catch (err) {
      this.deps.log.warn({ err }, 'cron reconcile failed');
      return;
    }
    for (const [key, job] of this.jobs) {
      if (wanted.has(key)) continue;
      job.stop();
      this.jobs.delete(key);
    }
    for (const [key, { app, task }] of wanted) {
      if (this.jobs.has(key)) continue;
      let job: Cron;
      try {
        parseSchedule(task.schedule, task.timezone);
        job = new Cron(task.schedule.trim(), { timezone: task.timezone, catch: true }, () => this.fire(app, task.id));
      } catch (err) {
        this.deps.log.warn({ err, app, task: task.id }, 'cron task cannot be scheduled');
        continue;
      }
      this.jobs.set(key, job);
      this.deps.log.info({ app, task: task.id, schedule: task.schedule, next: job.nextRun()?.toISOString() }, 'cron task scheduled');
    }
  }

  /** A scheduled run: on the release live at this moment, if it still has the task. */
  private async fire(app: string, taskId: string): Promise<void> {
    try {
      const { release, tasks } = liveTasks(this.deps, app);
      const task = tasks.find((t) => t.id === taskId);
      const suspended = this.deps.repo.suspended(app);
      if (!release || !task || task.maintenance || suspended.has('*') || suspended.has(taskId)) return;
      await this.deps.runner.start(app, task, release, 'schedule');
    } catch (err) {
      this.deps.log.warn({ err, app, task: taskId }, 'scheduled cron run failed to start');
    }
  }
}

const jobKey = (app: string, t: CronTask) => `${app} ${t.id} ${t.timezone}`;
