import { type Db, now } from './database.js';

export type DeployStatus = 'running' | 'succeeded' | 'failed';

export interface DeployRow {
  id: number;
  app: string;
  release: number | null;
  status: DeployStatus;
  started_at: string;
  finished_at: string | null;
  error: string | null;
  pid: number | null;
}

/** One row per deploy attempt: lets a restarted control plane find deploys that died with it. */
export class DeploysRepository {
  constructor(private readonly db: Db) {}

  start(app: string, pid: number): number {
    return Number(
      this.db.prepare("INSERT INTO deploys (app, status, started_at, pid) VALUES (?, 'running', ?, ?)").run(app, now(), pid)
        .lastInsertRowid,
    );
  }
  setRelease(id: number, release: number): void {
    this.db.prepare('UPDATE deploys SET release = ? WHERE id = ?').run(release, id);
  }
  finish(id: number, status: DeployStatus, error: string | null = null): void {
    this.db.prepare('UPDATE deploys SET status = ?, finished_at = ?, error = ? WHERE id = ?').run(status, now(), error, id);
  }
  /** Deploys after `id`, oldest first, at most `limit` (metrics count the finished ones once). */
  after(id: number, limit = 1000): DeployRow[] {
    return this.db.prepare('SELECT * FROM deploys WHERE id > ? ORDER BY id LIMIT ?').all(id, limit) as DeployRow[];
  }
  running(): DeployRow[] {
    return this.db.prepare("SELECT * FROM deploys WHERE status = 'running' ORDER BY id").all() as DeployRow[];
  }
}
