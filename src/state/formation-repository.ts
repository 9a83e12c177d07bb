import type { Db } from './database.js';

/** Desired replica count per process type. */
export class FormationRepository {
  constructor(private readonly db: Db) {}

  all(app: string): Record<string, number> {
    const rows = this.db.prepare('SELECT process, quantity FROM formation WHERE app = ? ORDER BY process').all(app) as {
      process: string;
      quantity: number;
    }[];
    return Object.fromEntries(rows.map((r) => [r.process, r.quantity]));
  }
  replace(app: string, formation: Record<string, number>): void {
    this.db.transaction(() => {
      this.db.prepare('DELETE FROM formation WHERE app = ?').run(app);
      const ins = this.db.prepare('INSERT INTO formation (app, process, quantity) VALUES (?, ?, ?)');
      for (const [p, q] of Object.entries(formation)) ins.run(app, p, q);
    })();
  }
}
