import type { Db } from './database.js';

/** Config vars per app. Values never leave this table except into containers and `config:get/show`. */
export class ConfigRepository {
  constructor(private readonly db: Db) {}

  all(app: string): Record<string, string> {
    const rows = this.db.prepare('SELECT key, value FROM config_vars WHERE app = ? ORDER BY key').all(app) as {
      key: string;
      value: string;
    }[];
    return Object.fromEntries(rows.map((r) => [r.key, r.value]));
  }
  /** Replaces the whole set in one transaction. */
  replace(app: string, vars: Record<string, string>): void {
    this.db.transaction(() => {
      this.db.prepare('DELETE FROM config_vars WHERE app = ?').run(app);
      const ins = this.db.prepare('INSERT INTO config_vars (app, key, value) VALUES (?, ?, ?)');
      for (const [k, v] of Object.entries(vars)) ins.run(app, k, v);
    })();
  }
}
