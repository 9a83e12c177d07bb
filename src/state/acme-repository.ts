import type { Db } from './database.js';

/** Let's Encrypt state of one app: enabled, when to renew, and the backoff after failures. */
export interface AcmeApp {
  app: string;
  enabledAt: string;
  /** when the scheduler renews (jitter included); null: as soon as it runs */
  renewAt: string | null;
  /** not before this (backoff after a failure, or a rate limit's retry-after) */
  nextAttemptAt: string | null;
  failures: number;
  lastError: string | null;
  lastAttemptAt: string | null;
}

interface Row {
  app: string;
  enabled_at: string;
  renew_at: string | null;
  next_attempt_at: string | null;
  failures: number;
  last_error: string | null;
  last_attempt_at: string | null;
}

function fromRow(r: Row): AcmeApp {
  return {
    app: r.app,
    enabledAt: r.enabled_at,
    renewAt: r.renew_at,
    nextAttemptAt: r.next_attempt_at,
    failures: r.failures,
    lastError: r.last_error,
    lastAttemptAt: r.last_attempt_at,
  };
}

export class AcmeRepository {
  constructor(private readonly db: Db) {}

  list(): AcmeApp[] {
    return (this.db.prepare('SELECT * FROM acme_apps ORDER BY app').all() as Row[]).map(fromRow);
  }

  get(app: string): AcmeApp | undefined {
    const r = this.db.prepare('SELECT * FROM acme_apps WHERE app = ?').get(app) as Row | undefined;
    return r ? fromRow(r) : undefined;
  }

  enable(app: string): void {
    this.db.prepare('INSERT INTO acme_apps (app, enabled_at) VALUES (?, ?) ON CONFLICT(app) DO NOTHING').run(app, new Date().toISOString());
  }

  disable(app: string): boolean {
    return this.db.prepare('DELETE FROM acme_apps WHERE app = ?').run(app).changes > 0;
  }

  /** After a good order (or a reuse): no failures, the next renewal time. */
  succeeded(app: string, renewAt: string): void {
    this.db
      .prepare(
        'UPDATE acme_apps SET renew_at = ?, next_attempt_at = NULL, failures = 0, last_error = NULL, last_attempt_at = ? WHERE app = ?',
      )
      .run(renewAt, new Date().toISOString(), app);
  }

  failed(app: string, error: string, nextAttemptAt: string): void {
    this.db
      .prepare('UPDATE acme_apps SET failures = failures + 1, last_error = ?, next_attempt_at = ?, last_attempt_at = ? WHERE app = ?')
      .run(error, nextAttemptAt, new Date().toISOString(), app);
  }
}
