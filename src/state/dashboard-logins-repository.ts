import type { Db } from './database.js';

export interface DashboardLoginRow {
  key_id: number;
  next: string;
  expires_at: number;
}

/** The dashboard's one-time login links, by the SHA-256 hash of their token (the token itself is never stored). */
export class DashboardLoginsRepository {
  constructor(private readonly db: Db) {}

  add(tokenHash: string, keyId: number, next: string, expiresAt: number): void {
    this.db
      .prepare('INSERT INTO dashboard_logins (token_hash, key_id, next, expires_at) VALUES (?, ?, ?, ?)')
      .run(tokenHash, keyId, next, expiresAt);
  }

  /** Removes the link and returns it (one use: a second call with the same hash gets undefined). */
  take(tokenHash: string): DashboardLoginRow | undefined {
    return this.db.prepare('DELETE FROM dashboard_logins WHERE token_hash = ? RETURNING key_id, next, expires_at').get(tokenHash) as
      | DashboardLoginRow
      | undefined;
  }

  /** Drops links past their expiry; returns how many. */
  prune(now: number): number {
    return this.db.prepare('DELETE FROM dashboard_logins WHERE expires_at <= ?').run(now).changes;
  }
}
