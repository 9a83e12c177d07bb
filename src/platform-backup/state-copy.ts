import type { Db } from '../state/database.js';

/**
 * Replaces every row of the live database with the rows of `backupFile` (same schema: the backup
 * copy was migrated first), in one transaction, so a daemon that has the database open sees the
 * old state or the new one, never a mix. Tables only the live schema has are emptied.
 */
export function copyState(live: Db, backupFile: string): { tables: number; rows: number } {
  const tables = (
    live.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name").all() as {
      name: string;
    }[]
  ).map((t) => t.name);
  live.pragma('foreign_keys = OFF');
  live.prepare('ATTACH DATABASE ? AS restored').run(backupFile);
  try {
    let rows = 0;
    live
      .transaction(() => {
        const theirs = new Set(
          (live.prepare("SELECT name FROM restored.sqlite_master WHERE type = 'table'").all() as { name: string }[]).map((t) => t.name),
        );
        for (const t of tables) {
          const q = `"${t.replace(/"/g, '""')}"`;
          live.prepare(`DELETE FROM main.${q}`).run();
          if (!theirs.has(t)) continue;
          const cols = (live.prepare(`PRAGMA main.table_info(${q})`).all() as { name: string }[]).map(
            (c) => `"${c.name.replace(/"/g, '""')}"`,
          );
          rows += live.prepare(`INSERT INTO main.${q} (${cols.join(', ')}) SELECT ${cols.join(', ')} FROM restored.${q}`).run().changes;
        }
        if (theirs.has('sqlite_sequence')) {
          live.prepare('DELETE FROM main.sqlite_sequence').run();
          live.prepare('INSERT INTO main.sqlite_sequence (name, seq) SELECT name, seq FROM restored.sqlite_sequence').run();
        }
        const bad = live.pragma('foreign_key_check') as unknown[];
        if (bad.length) throw new Error(`the restored state breaks ${bad.length} foreign key(s)`);
      })
      .immediate();
    return { tables: tables.length, rows };
  } finally {
    live.prepare('DETACH DATABASE restored').run();
    live.pragma('foreign_keys = ON');
  }
}
