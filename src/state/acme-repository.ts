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

/** One order placed with the ACME server (acme_orders). */
export interface AcmeOrder {
  app: string;
  startedAt: string;
  /** letsencrypt:renew --force */
  forced: boolean;
  by: 'command' | 'scheduler';
  issued: boolean;
  /** a failure's error code */
  errorCode: string | null;
  /** a failure's retry time */
  nextAttemptAt: string | null;
}

interface OrderRow {
  app: string;
  started_at: string;
  forced: number;
  by: 'command' | 'scheduler';
  issued: number;
  error_code: string | null;
  next_attempt_at: string | null;
}

/** Orders older than this are dropped (the budget looks one week back). */
const ORDER_HISTORY_MS = 30 * 86_400_000;

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

  /**
   * Enables an app; one enabled again gets back the retry time of its last order when that order
   * failed for a reason the ACME server counted (`restoreCodes`), so disable/enable does not end a backoff.
   */
  enable(app: string, restoreCodes: readonly string[] = []): void {
    const now = new Date().toISOString();
    const last = this.orders(app).at(-1);
    const restore =
      last && !last.issued && last.nextAttemptAt && last.nextAttemptAt > now && restoreCodes.includes(last.errorCode ?? '')
        ? last
        : undefined;
    this.db
      .prepare(
        'INSERT INTO acme_apps (app, enabled_at, next_attempt_at, failures, last_error) VALUES (?, ?, ?, ?, ?) ON CONFLICT(app) DO NOTHING',
      )
      .run(app, now, restore?.nextAttemptAt ?? null, restore ? 1 : 0, restore ? `an order failed at ${restore.startedAt}` : null);
  }

  /** The orders of an app in the last 30 days, oldest first. */
  orders(app: string): AcmeOrder[] {
    const since = new Date(Date.now() - ORDER_HISTORY_MS).toISOString();
    return (
      this.db.prepare('SELECT * FROM acme_orders WHERE app = ? AND started_at >= ? ORDER BY started_at, id').all(app, since) as OrderRow[]
    ).map((r) => ({
      app: r.app,
      startedAt: r.started_at,
      forced: r.forced === 1,
      by: r.by,
      issued: r.issued === 1,
      errorCode: r.error_code,
      nextAttemptAt: r.next_attempt_at,
    }));
  }

  /** Records an order placed with the ACME server, and drops the app's orders past 30 days. */
  recordOrder(o: AcmeOrder): void {
    this.db
      .prepare('INSERT INTO acme_orders (app, started_at, forced, by, issued, error_code, next_attempt_at) VALUES (?, ?, ?, ?, ?, ?, ?)')
      .run(o.app, o.startedAt, o.forced ? 1 : 0, o.by, o.issued ? 1 : 0, o.errorCode, o.nextAttemptAt);
    this.db
      .prepare('DELETE FROM acme_orders WHERE app = ? AND started_at < ?')
      .run(o.app, new Date(Date.now() - ORDER_HISTORY_MS).toISOString());
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
