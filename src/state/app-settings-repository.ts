import type { Db } from './database.js';

/** Per-app settings as JSON texts; their keys, types and defaults live in deploy/settings-schema.ts. */
export class AppSettingsRepository {
  constructor(private readonly db: Db) {}

  all(app: string): Record<string, string> {
    const rows = this.db.prepare('SELECT key, value FROM app_settings WHERE app = ?').all(app) as { key: string; value: string }[];
    return Object.fromEntries(rows.map((r) => [r.key, r.value]));
  }
  set(app: string, key: string, json: string): void {
    this.db
      .prepare('INSERT INTO app_settings (app, key, value) VALUES (?, ?, ?) ON CONFLICT(app, key) DO UPDATE SET value = excluded.value')
      .run(app, key, json);
  }
  unset(app: string, key: string): void {
    this.db.prepare('DELETE FROM app_settings WHERE app = ? AND key = ?').run(app, key);
  }
}
