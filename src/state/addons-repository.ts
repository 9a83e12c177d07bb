import { type Db, now } from './database.js';

export interface LastBackup {
  at: string;
  ok: boolean;
  /** the backup's name (ok) */
  name?: string;
  /** why it failed (not ok) */
  error?: string;
}

/** Where backups are copied off-site; the secret is never printed. */
export interface BackupTarget {
  url: string;
  endpoint: string;
  region: string;
  accessKeyId: string;
  secretAccessKey: string;
}

export interface AddonRow {
  type: string;
  name: string;
  image: string;
  container: string;
  volume: string;
  user: string;
  password: string;
  database: string;
  createdAt: string;
  schedule: string | null;
  keep: number | null;
  target: BackupTarget | null;
  lastBackup: LastBackup | null;
  /** volumes kept by a major upgrade (removed by the user) */
  oldVolumes: string[];
  /** the container's memory limit (null: the default; 0: none) */
  memoryBytes: number | null;
}

export interface AddonLink {
  app: string;
  var: string;
  createdAt: string;
  /** the app's own login (null: linked before per-app logins, or a type without them) */
  login: string | null;
  /** its password, stored as the add-on's own password is */
  password: string | null;
}

type Raw = Omit<AddonRow, 'createdAt' | 'target' | 'lastBackup' | 'oldVolumes' | 'memoryBytes'> & {
  created_at: string;
  target_json: string | null;
  last_backup_json: string | null;
  old_volumes_json: string;
  memory_bytes: number | null;
};

const fromRaw = ({ created_at, target_json, last_backup_json, old_volumes_json, memory_bytes, ...rest }: Raw): AddonRow => ({
  ...rest,
  createdAt: created_at,
  target: target_json ? (JSON.parse(target_json) as BackupTarget) : null,
  lastBackup: last_backup_json ? (JSON.parse(last_backup_json) as LastBackup) : null,
  oldVolumes: JSON.parse(old_volumes_json) as string[],
  memoryBytes: memory_bytes,
});

/** Add-on instances (databases) and their links to apps. */
export class AddonsRepository {
  constructor(private readonly db: Db) {}

  create(a: Omit<AddonRow, 'createdAt' | 'schedule' | 'keep' | 'target' | 'lastBackup' | 'oldVolumes'>): void {
    this.db
      .prepare(
        `INSERT INTO addons (type, name, image, container, volume, user, password, database, memory_bytes, created_at)
         VALUES (@type, @name, @image, @container, @volume, @user, @password, @database, @memoryBytes, @created_at)`,
      )
      .run({ ...a, created_at: now() });
  }

  get(type: string, name: string): AddonRow | undefined {
    const r = this.db.prepare('SELECT * FROM addons WHERE type = ? AND name = ?').get(type, name) as Raw | undefined;
    return r ? fromRaw(r) : undefined;
  }

  list(type?: string): AddonRow[] {
    const rows = (
      type
        ? this.db.prepare('SELECT * FROM addons WHERE type = ? ORDER BY name').all(type)
        : this.db.prepare('SELECT * FROM addons ORDER BY type, name').all()
    ) as Raw[];
    return rows.map(fromRaw);
  }

  delete(type: string, name: string): void {
    this.db.prepare('DELETE FROM addons WHERE type = ? AND name = ?').run(type, name);
  }

  setImage(type: string, name: string, image: string, volume: string, oldVolumes: string[]): void {
    this.db
      .prepare('UPDATE addons SET image = ?, volume = ?, old_volumes_json = ? WHERE type = ? AND name = ?')
      .run(image, volume, JSON.stringify(oldVolumes), type, name);
  }

  setMemory(type: string, name: string, memoryBytes: number | null): void {
    this.db.prepare('UPDATE addons SET memory_bytes = ? WHERE type = ? AND name = ?').run(memoryBytes, type, name);
  }

  setSchedule(type: string, name: string, schedule: string | null, keep: number | null): void {
    this.db.prepare('UPDATE addons SET schedule = ?, keep = ? WHERE type = ? AND name = ?').run(schedule, keep, type, name);
  }

  setTarget(type: string, name: string, target: BackupTarget | null): void {
    this.db
      .prepare('UPDATE addons SET target_json = ? WHERE type = ? AND name = ?')
      .run(target ? JSON.stringify(target) : null, type, name);
  }

  setLastBackup(type: string, name: string, last: LastBackup): void {
    this.db.prepare('UPDATE addons SET last_backup_json = ? WHERE type = ? AND name = ?').run(JSON.stringify(last), type, name);
  }

  links(type: string, name: string): AddonLink[] {
    return (
      this.db
        .prepare('SELECT app, var, created_at, login, password FROM addon_links WHERE type = ? AND name = ? ORDER BY app')
        .all(type, name) as { app: string; var: string; created_at: string; login: string | null; password: string | null }[]
    ).map((r) => ({ app: r.app, var: r.var, createdAt: r.created_at, login: r.login, password: r.password }));
  }

  /** Every add-on linked to `app` (apps:destroy unlinks them). */
  linksOfApp(app: string): { type: string; name: string; var: string; login: string | null }[] {
    return this.db.prepare('SELECT type, name, var, login FROM addon_links WHERE app = ? ORDER BY type, name').all(app) as {
      type: string;
      name: string;
      var: string;
      login: string | null;
    }[];
  }

  /** `login` and `password`: the app's own login (null for a type without per-app logins). */
  addLink(type: string, name: string, app: string, variable: string, login: string | null = null, password: string | null = null): void {
    this.db
      .prepare('INSERT INTO addon_links (type, name, app, var, created_at, login, password) VALUES (?, ?, ?, ?, ?, ?, ?)')
      .run(type, name, app, variable, now(), login, password);
  }

  removeLink(type: string, name: string, app: string): void {
    this.db.prepare('DELETE FROM addon_links WHERE type = ? AND name = ? AND app = ?').run(type, name, app);
  }
}
