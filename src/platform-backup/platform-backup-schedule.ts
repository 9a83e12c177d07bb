import fs from 'node:fs';
import path from 'node:path';
import { Cron } from 'croner';
import type { Logger } from '../log/logger.js';
import { writeJsonAtomic } from '../util/atomic-json.js';
import { PlatformBackupErrors as E } from './platform-backup-errors.js';

/** A scheduled platform backup, as `paas admin backup schedule` stores it (root only, mode 600: it may hold S3 keys). */
export interface BackupSchedule {
  cron: string;
  /** the local folder each archive is written to */
  to: string;
  /** archives kept in `to` (older ones of this schedule removed); null: all */
  keep: number | null;
  withImages: boolean | string[];
  withAddons: boolean;
  /** the OpenSSH public key line archives are encrypted to; null: not encrypted */
  encryptTo: string | null;
  /** the off-site copy of every archive */
  offsite: {
    url: string;
    endpoint: string | undefined;
    region: string | undefined;
    credentials: { accessKeyId: string; secretAccessKey: string };
  } | null;
}

export interface LastRun {
  at: string;
  ok: boolean;
  file?: string;
  offsite?: string | null;
  error?: string;
}

export function scheduleFiles(dataDir: string) {
  const dir = path.join(path.resolve(dataDir), 'platform-backup');
  return { schedule: path.join(dir, 'schedule.json'), last: path.join(dir, 'last-run.json') };
}

/** The next run of `cron` (UTC), or a usage error naming the bad pattern. */
export function nextRun(cron: string): Date | null {
  try {
    return new Cron(cron, { paused: true, timezone: 'UTC' }).nextRun();
  } catch (e) {
    throw E.schedule(`invalid schedule "${cron}": ${(e as Error).message.replace(/^CronPattern: /, '')} (e.g. "0 3 * * *")`);
  }
}

export function readJson<T>(file: string): T | null {
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8')) as T;
  } catch {
    return null;
  }
}

export function writeSchedule(file: string, s: BackupSchedule | null): void {
  if (s === null) fs.rmSync(file, { force: true });
  else writeJsonAtomic(file, s, { indent: 2, mode: 0o600 });
}

/** The archives of a schedule in `dir`, oldest first. */
export function scheduledArchives(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  return fs
    .readdirSync(dir)
    .filter((f) => /^paas-backup-.*\.tar\.gz(\.enc)?$/.test(f))
    .sort();
}

export interface PlatformBackupSchedulerDeps {
  files: ReturnType<typeof scheduleFiles>;
  /** one backup of the schedule: resolves to the archive written and its off-site URL */
  run(s: BackupSchedule): Promise<{ file: string; offsite: string | null }>;
  log: Logger;
  /** how often the stored schedule is read again (`paas admin` writes it while the daemon runs) */
  pollMs?: number;
}

/**
 * Runs the stored platform backup schedule inside the daemon (croner, UTC, never overlapping):
 * each run writes an archive into the schedule's folder, copies it off-site when one is set, then
 * keeps the newest `keep`. A failure is logged as an error and recorded as the last run, which
 * `paas admin backup schedule` shows. A changed schedule file is picked up within `pollMs`.
 */
export class PlatformBackupScheduler {
  private job: Cron | null = null;
  private text: string | null = null;
  private timer: NodeJS.Timeout | null = null;
  private watcher: fs.FSWatcher | null = null;

  constructor(private readonly deps: PlatformBackupSchedulerDeps) {}

  start(): void {
    this.reload();
    // inotify picks up a change at once; the poll is the fallback
    const dir = path.dirname(this.deps.files.schedule);
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
    try {
      this.watcher = fs.watch(dir, () => this.reload());
      this.watcher.on('error', () => undefined);
      this.watcher.unref();
    } catch {
      // polled only
    }
    this.timer = setInterval(() => this.reload(), this.deps.pollMs ?? 15_000);
    this.timer.unref();
  }

  stop(): void {
    this.watcher?.close();
    this.watcher = null;
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    this.job?.stop();
    this.job = null;
  }

  private reload(): void {
    const text = fs.existsSync(this.deps.files.schedule) ? fs.readFileSync(this.deps.files.schedule, 'utf8') : null;
    if (text === this.text) return;
    this.text = text;
    this.job?.stop();
    this.job = null;
    if (text === null) return;
    let s: BackupSchedule;
    try {
      s = JSON.parse(text) as BackupSchedule;
      this.job = new Cron(s.cron, { protect: true, timezone: 'UTC', name: 'platform backup' }, async () => {
        await this.runOnce(s);
      });
    } catch (err) {
      this.deps.log.error({ err: (err as Error).message }, 'the platform backup schedule is unreadable; no scheduled backups');
      return;
    }
    this.deps.log.info({ cron: s.cron, to: s.to, next: this.job.nextRun()?.toISOString() }, 'platform backup scheduled');
  }

  /** One scheduled backup (also what a test or an operator drives); never throws. */
  async runOnce(s: BackupSchedule): Promise<LastRun> {
    const at = new Date().toISOString();
    let last: LastRun;
    try {
      const r = await this.deps.run(s);
      last = { at, ok: true, file: r.file, offsite: r.offsite };
      if (s.keep) {
        const all = scheduledArchives(s.to);
        for (const f of all.slice(0, Math.max(0, all.length - s.keep))) fs.rmSync(path.join(s.to, f), { force: true });
      }
      this.deps.log.info({ file: r.file, offsite: r.offsite }, 'scheduled platform backup written');
    } catch (e) {
      last = { at, ok: false, error: (e as Error).message };
      this.deps.log.error({ err: (e as Error).message }, 'scheduled platform backup FAILED');
    }
    writeJsonAtomic(this.deps.files.last, last, { mode: 0o600 });
    return last;
  }
}
