import type { Db } from './database.js';

export interface DashboardSessionRow {
  /** the public id `dashboard:sessions` shows and `dashboard:revoke` takes */
  id: string;
  key_id: number;
  key_name: string;
  fingerprint: string;
  csrf: string;
  client: string;
  user_agent: string;
  created_at: number;
  expires_at: number;
  last_seen: number;
}

export interface NewDashboardSession {
  id: string;
  secretHash: string;
  keyId: number;
  csrf: string;
  client: string;
  userAgent: string;
  createdAt: number;
  expiresAt: number;
}

const SELECT = `SELECT s.id, s.key_id, k.name AS key_name, k.fingerprint, s.csrf, s.client, s.user_agent, s.created_at, s.expires_at, s.last_seen
  FROM dashboard_sessions s JOIN ssh_keys k ON k.id = s.key_id`;

/** Dashboard sessions, found by the SHA-256 hash of their cookie value (the value itself is never stored). */
export class DashboardSessionsRepository {
  constructor(private readonly db: Db) {}

  add(s: NewDashboardSession): void {
    this.db
      .prepare(
        'INSERT INTO dashboard_sessions (id, secret_hash, key_id, csrf, client, user_agent, created_at, expires_at, last_seen) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)',
      )
      .run(s.id, s.secretHash, s.keyId, s.csrf, s.client, s.userAgent, s.createdAt, s.expiresAt, s.createdAt);
  }

  bySecret(secretHash: string): DashboardSessionRow | undefined {
    return this.db.prepare(`${SELECT} WHERE s.secret_hash = ?`).get(secretHash) as DashboardSessionRow | undefined;
  }

  /** Every session, or those of one key, newest first. */
  list(keyId?: number): DashboardSessionRow[] {
    if (keyId === undefined) return this.db.prepare(`${SELECT} ORDER BY s.created_at DESC`).all() as DashboardSessionRow[];
    return this.db.prepare(`${SELECT} WHERE s.key_id = ? ORDER BY s.created_at DESC`).all(keyId) as DashboardSessionRow[];
  }

  touch(id: string, at: number): void {
    this.db.prepare('UPDATE dashboard_sessions SET last_seen = ? WHERE id = ?').run(at, id);
  }

  /** Removes sessions by id (all given when `keyId` is undefined, else only that key's); returns the ids removed. */
  remove(ids: readonly string[], keyId?: number): string[] {
    const del = this.db.prepare(
      keyId === undefined ? 'DELETE FROM dashboard_sessions WHERE id = ?' : 'DELETE FROM dashboard_sessions WHERE id = ? AND key_id = ?',
    );
    return this.db.transaction(() => ids.filter((id) => (keyId === undefined ? del.run(id) : del.run(id, keyId)).changes > 0))();
  }

  prune(now: number): number {
    return this.db.prepare('DELETE FROM dashboard_sessions WHERE expires_at <= ?').run(now).changes;
  }
}
