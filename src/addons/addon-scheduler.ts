import { Cron } from 'croner';
import type { NotificationSink } from '../contracts/notification-sink.js';
import type { AddonType } from './addon-type.js';
import { addonType } from './addon-types.js';
import type { Logger } from '../log/logger.js';
import type { AddonsRepository } from '../state/addons-repository.js';
import type { AddonDataService } from './addon-data-service.js';
import { AddonErrors } from './addon-errors.js';
import type { AddonService } from './addon-service.js';

export interface AddonSchedulerDeps {
  addons: Pick<AddonsRepository, 'list' | 'setSchedule'>;
  service: Pick<AddonService, 'get'>;
  data: Pick<AddonDataService, 'backup' | 'prune'>;
  log: Logger;
  /** told backup.failed when a scheduled backup fails */
  notify?: NotificationSink;
}

/**
 * Scheduled backups inside the control plane (croner, no system cron): the schedule is stored
 * with the add-on, so a restarted control plane picks every one up again in `start()`. A run
 * never overlaps the previous one; its failure is recorded and logged by the backup itself.
 */
export class AddonScheduler {
  private readonly jobs = new Map<string, Cron>();
  private running = false;

  constructor(private readonly deps: AddonSchedulerDeps) {}

  /** Starts the stored schedules (the control plane; `paas admin` without a daemon only stores them). */
  start(): void {
    this.running = true;
    for (const a of this.deps.addons.list()) {
      const t = addonType(a.type);
      if (t && a.schedule) this.schedule(t, a.name, a.schedule, a.keep);
    }
  }

  stop(): void {
    this.running = false;
    for (const j of this.jobs.values()) j.stop();
    this.jobs.clear();
  }

  get(type: AddonType, name: string): { cron: string; keep: number | null; next: string | null } | null {
    const row = this.deps.service.get(type, name);
    if (!row.schedule) return null;
    const next = (this.jobs.get(`${type.name}:${name}`) ?? new Cron(row.schedule, { paused: true })).nextRun();
    return { cron: row.schedule, keep: row.keep, next: next?.toISOString() ?? null };
  }

  /** Stores (or, with `cron` null, removes) the schedule and applies it now. */
  set(type: AddonType, name: string, cron: string | null, keep: number | null): { next: string | null } {
    this.deps.service.get(type, name);
    let next: Date | null = null;
    if (cron !== null) {
      try {
        next = new Cron(cron, { paused: true }).nextRun();
      } catch (e) {
        throw AddonErrors.schedule(`invalid schedule "${cron}": ${(e as Error).message.replace(/^CronPattern: /, '')} (e.g. "0 3 * * *")`);
      }
    }
    this.deps.addons.setSchedule(type.name, name, cron, keep);
    this.unschedule(type, name);
    if (cron !== null && this.running) this.schedule(type, name, cron, keep);
    return { next: next?.toISOString() ?? null };
  }

  /** apps of a destroyed add-on: its job goes */
  unschedule(type: AddonType, name: string): void {
    const key = `${type.name}:${name}`;
    this.jobs.get(key)?.stop();
    this.jobs.delete(key);
  }

  private schedule(type: AddonType, name: string, cron: string, keep: number | null): void {
    const key = `${type.name}:${name}`;
    const job = new Cron(cron, { protect: true, name: `backup ${key}` }, async () => {
      const signal = new AbortController().signal;
      try {
        await this.deps.data.backup(type, name, signal, 'scheduled');
        if (keep) {
          const removed = this.deps.data.prune(type, name, keep);
          if (removed.length) this.deps.log.info({ addon: name, type: type.name, removed }, 'old add-on backups pruned');
        }
      } catch (err) {
        // recorded as the last backup and logged as an error by the backup itself
        const why = (err instanceof Error ? err.message : String(err)).split('\n')[0];
        this.deps.notify?.notify({ event: 'backup.failed', addon: key, message: `scheduled backup of ${key} failed: ${why}` });
      }
    });
    this.jobs.set(key, job);
    this.deps.log.info({ addon: name, type: type.name, cron, next: job.nextRun()?.toISOString() }, 'add-on backup scheduled');
  }
}
