import type { Db } from './database.js';

export class DomainsRepository {
  constructor(private readonly db: Db) {}

  add(app: string, domain: string): void {
    this.db.prepare('INSERT INTO domains (domain, app) VALUES (?, ?)').run(domain, app);
  }
  remove(domain: string): void {
    this.db.prepare('DELETE FROM domains WHERE domain = ?').run(domain);
  }
  owner(domain: string): string | undefined {
    return (this.db.prepare('SELECT app FROM domains WHERE domain = ?').get(domain) as { app: string } | undefined)?.app;
  }
  list(app: string): string[] {
    return (this.db.prepare('SELECT domain FROM domains WHERE app = ? ORDER BY domain').all(app) as { domain: string }[]).map(
      (r) => r.domain,
    );
  }
}
