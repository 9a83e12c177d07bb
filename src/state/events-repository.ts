import { type Db, now } from './database.js';

export interface EventRow {
  id: number;
  at: string;
  key_name: string | null;
  command: string;
  app: string | null;
  exit_code: number;
  /** a push's `ref old..new`; never arguments or values */
  detail: string | null;
}

export interface AuditEvent {
  keyName: string | null;
  command: string;
  app: string | null;
  exitCode: number;
  detail?: string;
}

/** The audit log: who ran which command on which app, and how it ended. Never arguments or values. */
export class EventsRepository {
  constructor(private readonly db: Db) {}

  record(e: AuditEvent): void {
    this.db
      .prepare('INSERT INTO events (at, key_name, command, app, exit_code, detail) VALUES (?, ?, ?, ?, ?, ?)')
      .run(now(), e.keyName, e.command, e.app, e.exitCode, e.detail ?? null);
  }
  recent(limit = 100): EventRow[] {
    return this.db.prepare('SELECT * FROM events ORDER BY id DESC LIMIT ?').all(limit) as EventRow[];
  }
}
