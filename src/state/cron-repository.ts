import type { Db } from './database.js';

/** An app.json `cron` entry as stored (src/cron/cron-task.ts checks it before it gets here). */
export interface StoredCronEntry {
  command: string;
  schedule: string;
  concurrencyPolicy: 'allow' | 'forbid' | 'replace';
  maintenance: boolean;
  timezone: string;
}

/** running: the container runs; the others are final. */
export type CronRunResult = 'running' | 'succeeded' | 'failed' | 'timed-out' | 'replaced' | 'skipped' | 'lost' | 'error';

export interface CronRun {
  id: number;
  app: string;
  taskId: string;
  release: number;
  /** `schedule`, or the key name of a `cron:run` */
  trigger: string;
  container: string | null;
  startedAt: string;
  /** when the time limit stops it */
  deadline: string;
  finishedAt: string | null;
  result: CronRunResult;
  exitCode: number | null;
}

interface RunRow {
  id: number;
  app: string;
  task_id: string;
  release: number;
  trigger: string;
  container: string | null;
  started_at: string;
  deadline: string;
  finished_at: string | null;
  result: CronRunResult;
  exit_code: number | null;
}

const fromRow = (r: RunRow): CronRun => ({
  id: r.id,
  app: r.app,
  taskId: r.task_id,
  release: r.release,
  trigger: r.trigger,
  container: r.container,
  startedAt: r.started_at,
  deadline: r.deadline,
  finishedAt: r.finished_at,
  result: r.result,
  exitCode: r.exit_code,
});

/** app.json cron: the tasks of each built image, what is suspended, and every run. */
export class CronRepository {
  constructor(private readonly db: Db) {}

  /** The tasks a build of `image` came with (a push records them before the release goes live). */
  saveEntries(app: string, image: string, entries: StoredCronEntry[]): void {
    this.db
      .prepare(
        'INSERT INTO cron_tasks (app, image, tasks_json) VALUES (?, ?, ?) ON CONFLICT (app, image) DO UPDATE SET tasks_json = excluded.tasks_json',
      )
      .run(app, image, JSON.stringify(entries));
  }

  /** The tasks of an image; none when it was built without any (or deployed from an image). */
  entries(app: string, image: string): StoredCronEntry[] {
    const row = this.db.prepare('SELECT tasks_json FROM cron_tasks WHERE app = ? AND image = ?').get(app, image) as
      | { tasks_json: string }
      | undefined;
    return row ? (JSON.parse(row.tasks_json) as StoredCronEntry[]) : [];
  }

  /** Suspended task ids of an app; `*` is the whole app. */
  suspended(app: string): Set<string> {
    const rows = this.db.prepare('SELECT task_id FROM cron_suspended WHERE app = ?').all(app) as { task_id: string }[];
    return new Set(rows.map((r) => r.task_id));
  }

  suspend(app: string, taskId: string, at: string): void {
    this.db.prepare('INSERT OR IGNORE INTO cron_suspended (app, task_id, at) VALUES (?, ?, ?)').run(app, taskId, at);
  }

  /** `taskId` null: the app and every task of it. */
  resume(app: string, taskId: string | null): void {
    if (taskId === null) this.db.prepare('DELETE FROM cron_suspended WHERE app = ?').run(app);
    else this.db.prepare('DELETE FROM cron_suspended WHERE app = ? AND task_id = ?').run(app, taskId);
  }

  startRun(r: Omit<CronRun, 'id' | 'finishedAt' | 'exitCode' | 'container'> & { container?: string | null }): number {
    const info = this.db
      .prepare(
        'INSERT INTO cron_runs (app, task_id, release, trigger, container, started_at, deadline, result) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
      )
      .run(r.app, r.taskId, r.release, r.trigger, r.container ?? null, r.startedAt, r.deadline, r.result);
    return Number(info.lastInsertRowid);
  }

  setContainer(id: number, container: string): void {
    this.db.prepare('UPDATE cron_runs SET container = ? WHERE id = ?').run(container, id);
  }

  finishRun(id: number, result: CronRunResult, exitCode: number | null, at: string): void {
    this.db
      .prepare("UPDATE cron_runs SET result = ?, exit_code = ?, finished_at = ? WHERE id = ? AND result = 'running'")
      .run(result, exitCode, at, id);
  }

  run(id: number): CronRun | undefined {
    const row = this.db.prepare('SELECT * FROM cron_runs WHERE id = ?').get(id) as RunRow | undefined;
    return row ? fromRow(row) : undefined;
  }

  /** Runs whose container was running when last seen (all apps). */
  running(): CronRun[] {
    return (this.db.prepare("SELECT * FROM cron_runs WHERE result = 'running' ORDER BY id").all() as RunRow[]).map(fromRow);
  }

  /** The newest run of each task of an app. */
  lastRuns(app: string): Map<string, CronRun> {
    const rows = this.db
      .prepare('SELECT * FROM cron_runs WHERE id IN (SELECT max(id) FROM cron_runs WHERE app = ? GROUP BY task_id)')
      .all(app) as RunRow[];
    return new Map(rows.map((r) => [r.task_id, fromRow(r)]));
  }

  /** The newest runs of one task, newest first. */
  runs(app: string, taskId: string, limit = 20): CronRun[] {
    return (
      this.db.prepare('SELECT * FROM cron_runs WHERE app = ? AND task_id = ? ORDER BY id DESC LIMIT ?').all(app, taskId, limit) as RunRow[]
    ).map(fromRow);
  }

  /** Keeps the newest `keep` rows per task of an app (the table cannot grow without bound). */
  prune(app: string, taskId: string, keep: number): void {
    this.db
      .prepare(
        'DELETE FROM cron_runs WHERE app = ? AND task_id = ? AND id NOT IN (SELECT id FROM cron_runs WHERE app = ? AND task_id = ? ORDER BY id DESC LIMIT ?)',
      )
      .run(app, taskId, app, taskId, keep);
  }
}
