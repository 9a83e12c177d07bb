import type { Db } from './database.js';

/**
 * A per-app map stored as rows `(app, <key column>, <value column>)`: read whole, replaced whole
 * in one transaction. Config vars and the formation are such maps.
 */
export class AppMapTable<V extends string | number> {
  constructor(
    private readonly db: Db,
    private readonly table: string,
    private readonly keyColumn: string,
    private readonly valueColumn: string,
  ) {}

  all(app: string): Record<string, V> {
    const rows = this.db
      .prepare(`SELECT ${this.keyColumn} AS k, ${this.valueColumn} AS v FROM ${this.table} WHERE app = ? ORDER BY ${this.keyColumn}`)
      .all(app) as { k: string; v: V }[];
    return Object.fromEntries(rows.map((r) => [r.k, r.v]));
  }

  /** Replaces the whole map in one transaction. */
  replace(app: string, map: Record<string, V>): void {
    this.db.transaction(() => {
      this.db.prepare(`DELETE FROM ${this.table} WHERE app = ?`).run(app);
      const ins = this.db.prepare(`INSERT INTO ${this.table} (app, ${this.keyColumn}, ${this.valueColumn}) VALUES (?, ?, ?)`);
      for (const [k, v] of Object.entries(map)) ins.run(app, k, v);
    })();
  }
}
