import { type Db, now } from './database.js';

export type KeyRole = 'admin' | 'developer';

export interface SshKeyRow {
  id: number;
  name: string;
  fingerprint: string;
  public_key: string;
  role: KeyRole;
  /** 1: a developer key that may create (and destroy) apps */
  can_create: number;
  created_at: string;
}

/** SSH keys, their role, and the apps granted to developer keys (ssh_key_apps). */
export class SshKeysRepository {
  constructor(private readonly db: Db) {}

  add(name: string, fingerprint: string, publicKey: string, role: KeyRole = 'admin', canCreate = false): SshKeyRow {
    const info = this.db
      .prepare('INSERT INTO ssh_keys (name, fingerprint, public_key, role, can_create, created_at) VALUES (?, ?, ?, ?, ?, ?)')
      .run(name, fingerprint, publicKey, role, canCreate ? 1 : 0, now());
    return this.db.prepare('SELECT * FROM ssh_keys WHERE id = ?').get(info.lastInsertRowid) as SshKeyRow;
  }
  byName(name: string): SshKeyRow | undefined {
    return this.db.prepare('SELECT * FROM ssh_keys WHERE name = ?').get(name) as SshKeyRow | undefined;
  }
  byFingerprint(fp: string): SshKeyRow | undefined {
    return this.db.prepare('SELECT * FROM ssh_keys WHERE fingerprint = ?').get(fp) as SshKeyRow | undefined;
  }
  list(): SshKeyRow[] {
    return this.db.prepare('SELECT * FROM ssh_keys ORDER BY name').all() as SshKeyRow[];
  }
  countAdmins(): number {
    return (this.db.prepare("SELECT count(*) AS n FROM ssh_keys WHERE role = 'admin'").get() as { n: number }).n;
  }
  remove(name: string): void {
    this.db.prepare('DELETE FROM ssh_keys WHERE name = ?').run(name);
  }
  /** The apps granted to a key, sorted. */
  appsOf(keyId: number): string[] {
    return (this.db.prepare('SELECT app FROM ssh_key_apps WHERE key_id = ? ORDER BY app').all(keyId) as { app: string }[]).map(
      (r) => r.app,
    );
  }
  grant(keyId: number, apps: string[]): void {
    const ins = this.db.prepare('INSERT OR IGNORE INTO ssh_key_apps (key_id, app) VALUES (?, ?)');
    this.db.transaction(() => {
      for (const a of apps) ins.run(keyId, a);
    })();
  }
  revoke(keyId: number, apps: string[]): void {
    const del = this.db.prepare('DELETE FROM ssh_key_apps WHERE key_id = ? AND app = ?');
    this.db.transaction(() => {
      for (const a of apps) del.run(keyId, a);
    })();
  }
}
