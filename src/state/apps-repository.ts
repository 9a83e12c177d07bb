import { type Db, now } from './database.js';

export interface AppRow {
  name: string;
  created_at: string;
}

export class AppsRepository {
  constructor(private readonly db: Db) {}

  create(name: string): AppRow {
    const row = { name, created_at: now() };
    this.db.prepare('INSERT INTO apps (name, created_at) VALUES (@name, @created_at)').run(row);
    return row;
  }
  get(name: string): AppRow | undefined {
    return this.db.prepare('SELECT * FROM apps WHERE name = ?').get(name) as AppRow | undefined;
  }
  exists(name: string): boolean {
    return this.get(name) !== undefined;
  }
  list(): AppRow[] {
    return this.db.prepare('SELECT * FROM apps ORDER BY name').all() as AppRow[];
  }
  /** Removes the app and, by cascade, its releases, config, formation, domains and settings. */
  delete(name: string): void {
    this.db.prepare('DELETE FROM apps WHERE name = ?').run(name);
  }
}
