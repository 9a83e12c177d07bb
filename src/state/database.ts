import fs from 'node:fs';
import path from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { MIGRATIONS } from './migrations.js';
import { StateErrors } from './state-errors.js';

export type Db = BetterSqlite3.Database;

/**
 * Opens (creating if needed) the state database: WAL, foreign keys, mode 600, migrated to the
 * latest schema. Several processes (daemon, `paas admin`) may open it at once.
 */
export function openDatabase(file: string, migrations: readonly string[] = MIGRATIONS): Db {
  fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  let db: Db;
  try {
    db = new BetterSqlite3(file);
  } catch (cause) {
    throw StateErrors.open(`cannot open the state database ${file}: ${(cause as Error).message}`, cause);
  }
  fs.chmodSync(file, 0o600);
  db.pragma('journal_mode = WAL');
  db.pragma('foreign_keys = ON');
  db.pragma('busy_timeout = 5000');
  db.pragma('synchronous = NORMAL');
  migrate(db, migrations);
  return db;
}

export function schemaVersion(db: Db): number {
  return db.pragma('user_version', { simple: true }) as number;
}

function migrate(db: Db, migrations: readonly string[]): void {
  const current = schemaVersion(db);
  if (current > migrations.length) {
    throw StateErrors.tooNew(`the state database is at schema v${current}, newer than this paas (v${migrations.length}); upgrade paas`);
  }
  for (let v = current; v < migrations.length; v++) {
    db.transaction(() => {
      db.exec(migrations[v]);
      db.pragma(`user_version = ${v + 1}`);
    }).immediate();
  }
}

export const now = (): string => new Date().toISOString();
