import type { Db } from './database.js';

export type CertSource = 'custom' | 'letsencrypt';

export interface StoredCert {
  app: string;
  source: CertSource;
  certPem: string;
  keyPem: string;
  names: string[];
  issuer: string;
  serial: string;
  notBefore: string;
  notAfter: string;
  createdAt: string;
}

export interface TlsOptions {
  redirect: boolean;
  hsts: boolean;
}

interface Row {
  app: string;
  source: CertSource;
  cert_pem: string;
  key_pem: string;
  names_json: string;
  issuer: string;
  serial: string;
  not_before: string;
  not_after: string;
  created_at: string;
}

function fromRow(r: Row): StoredCert {
  return {
    app: r.app,
    source: r.source,
    certPem: r.cert_pem,
    keyPem: r.key_pem,
    names: JSON.parse(r.names_json) as string[],
    issuer: r.issuer,
    serial: r.serial,
    notBefore: r.not_before,
    notAfter: r.not_after,
    createdAt: r.created_at,
  };
}

/** Certificates (one per app and source) and each app's redirect/HSTS options. */
export class CertificatesRepository {
  constructor(private readonly db: Db) {}

  all(): StoredCert[] {
    return (this.db.prepare('SELECT * FROM certificates ORDER BY app, source').all() as Row[]).map(fromRow);
  }

  forApp(app: string): StoredCert[] {
    return (this.db.prepare('SELECT * FROM certificates WHERE app = ? ORDER BY source').all(app) as Row[]).map(fromRow);
  }

  get(app: string, source: CertSource): StoredCert | undefined {
    const r = this.db.prepare('SELECT * FROM certificates WHERE app = ? AND source = ?').get(app, source) as Row | undefined;
    return r ? fromRow(r) : undefined;
  }

  put(c: Omit<StoredCert, 'createdAt'>): void {
    this.db
      .prepare(
        `INSERT INTO certificates (app, source, cert_pem, key_pem, names_json, issuer, serial, not_before, not_after, created_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT(app, source) DO UPDATE SET cert_pem = excluded.cert_pem, key_pem = excluded.key_pem,
           names_json = excluded.names_json, issuer = excluded.issuer, serial = excluded.serial,
           not_before = excluded.not_before, not_after = excluded.not_after, created_at = excluded.created_at`,
      )
      .run(
        c.app,
        c.source,
        c.certPem,
        c.keyPem,
        JSON.stringify(c.names),
        c.issuer,
        c.serial,
        c.notBefore,
        c.notAfter,
        new Date().toISOString(),
      );
  }

  remove(app: string, source: CertSource): boolean {
    return this.db.prepare('DELETE FROM certificates WHERE app = ? AND source = ?').run(app, source).changes > 0;
  }

  options(app: string): TlsOptions {
    const r = this.db.prepare('SELECT redirect, hsts FROM tls_options WHERE app = ?').get(app) as
      | { redirect: number; hsts: number }
      | undefined;
    return { redirect: r ? r.redirect === 1 : true, hsts: r ? r.hsts === 1 : false };
  }

  setOptions(app: string, o: TlsOptions): void {
    this.db
      .prepare(
        'INSERT INTO tls_options (app, redirect, hsts) VALUES (?, ?, ?) ON CONFLICT(app) DO UPDATE SET redirect = excluded.redirect, hsts = excluded.hsts',
      )
      .run(app, o.redirect ? 1 : 0, o.hsts ? 1 : 0);
  }
}
