import type { Db } from './database.js';

/** Per-app settings: builder choice, health checks, limits; values are JSON. */
export class AppSettingsRepository {
  constructor(private readonly db: Db) {}

  get<T>(app: string, key: string): T | undefined {
    const row = this.db.prepare('SELECT value FROM app_settings WHERE app = ? AND key = ?').get(app, key) as { value: string } | undefined;
    return row ? (JSON.parse(row.value) as T) : undefined;
  }
  set(app: string, key: string, value: unknown): void {
    this.db
      .prepare('INSERT INTO app_settings (app, key, value) VALUES (?, ?, ?) ON CONFLICT(app, key) DO UPDATE SET value = excluded.value')
      .run(app, key, JSON.stringify(value));
  }
  unset(app: string, key: string): void {
    this.db.prepare('DELETE FROM app_settings WHERE app = ? AND key = ?').run(app, key);
  }
}
