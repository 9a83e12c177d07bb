import { type Db, now } from './database.js';

export interface NotificationRow {
  name: string;
  url: string;
  events_json: string;
  secret: string;
  created_at: string;
  last_event: string | null;
  last_at: string | null;
  /** 1 delivered, 0 failed, null never tried */
  last_ok: number | null;
  last_status: number | null;
  last_error: string | null;
  last_attempts: number | null;
}

/** How a notification's last delivery ended. */
export interface LastDelivery {
  event: string;
  at: string;
  ok: boolean;
  status: number | null;
  error: string | null;
  attempts: number;
}

/** The webhooks paas notifies (notifications:*), with their secret and last delivery. */
export class NotificationsRepository {
  constructor(private readonly db: Db) {}

  add(name: string, url: string, events: string[], secret: string): void {
    this.db
      .prepare('INSERT INTO notifications (name, url, events_json, secret, created_at) VALUES (?, ?, ?, ?, ?)')
      .run(name, url, JSON.stringify(events), secret, now());
  }
  get(name: string): NotificationRow | undefined {
    return this.db.prepare('SELECT * FROM notifications WHERE name = ?').get(name) as NotificationRow | undefined;
  }
  list(): NotificationRow[] {
    return this.db.prepare('SELECT * FROM notifications ORDER BY name').all() as NotificationRow[];
  }
  /** Those subscribed to `event`. */
  forEvent(event: string): NotificationRow[] {
    return this.db
      .prepare('SELECT n.* FROM notifications n WHERE EXISTS (SELECT 1 FROM json_each(n.events_json) WHERE value = ?) ORDER BY name')
      .all(event) as NotificationRow[];
  }
  remove(name: string): boolean {
    return this.db.prepare('DELETE FROM notifications WHERE name = ?').run(name).changes > 0;
  }
  recordDelivery(name: string, d: LastDelivery): void {
    this.db
      .prepare(
        'UPDATE notifications SET last_event = ?, last_at = ?, last_ok = ?, last_status = ?, last_error = ?, last_attempts = ? WHERE name = ?',
      )
      .run(d.event, d.at, d.ok ? 1 : 0, d.status, d.error, d.attempts, name);
  }
}
