import { type Db, now } from './database.js';

export type KeyRole = 'admin' | 'collaborator';

export interface SshKeyRow {
  id: number;
  name: string;
  fingerprint: string;
  public_key: string;
  role: KeyRole;
  created_at: string;
}

export class SshKeysRepository {
  constructor(private readonly db: Db) {}

  add(name: string, fingerprint: string, publicKey: string, role: KeyRole = 'admin'): SshKeyRow {
    const info = this.db
      .prepare('INSERT INTO ssh_keys (name, fingerprint, public_key, role, created_at) VALUES (?, ?, ?, ?, ?)')
      .run(name, fingerprint, publicKey, role, now());
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
}
