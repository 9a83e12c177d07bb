import type { CertificatesRepository, CertSource, StoredCert, TlsOptions } from '../state/certificates-repository.js';
import type { Identity } from '../contracts/command-io.js';
import { CertErrors } from './cert-errors.js';
import { parsePemBundle } from './pem-bundle.js';
import { namesCover } from '../util/x509-names.js';
import { certFor, type TlsSync } from './tls-sync.js';

export interface CertServiceDeps {
  certs: CertificatesRepository;
  hosts: (app: string) => string[];
  sync: TlsSync;
  /** the global domain (its apex and `paas.<domain>` are paas's own hosts) */
  globalDomain: () => string;
}

export interface CertReportEntry {
  source: CertSource;
  names: string[];
  issuer: string;
  serial: string;
  notBefore: string;
  notAfter: string;
  daysLeft: number;
  /** the app's hosts this certificate is served for */
  serves: string[];
}

export interface CertReport {
  app: string;
  redirect: boolean;
  hsts: boolean;
  certificates: CertReportEntry[];
  /** the app's hosts no certificate covers (they get the default one) */
  uncovered: string[];
}

const DAY = 86_400_000;

export function daysLeft(notAfter: string, now = Date.now()): number {
  return Math.floor((Date.parse(notAfter) - now) / DAY);
}

/** certs:add/remove/report/set: custom certificates and each app's redirect/HSTS choice. */
export class CertService {
  constructor(private readonly deps: CertServiceDeps) {}

  /** Stores a custom certificate (PEM chain + key) and swaps it in; returns its report and warnings. */
  async add(app: string, bundle: string, identity?: Identity): Promise<{ cert: CertReportEntry; warnings: string[] }> {
    const parsed = parsePemBundle(bundle);
    if (identity?.role === 'developer') {
      // the dashboard's host is served with any stored certificate that covers it (tls-sync.ts):
      // a developer's own (even self-signed) one must not take over paas's hosts
      const platform = this.platformHosts().find((h) => namesCover(parsed.names, h));
      if (platform !== undefined) {
        throw CertErrors.platformHost(`the certificate covers ${platform}, a host of paas itself: only an admin key may add it`);
      }
    }
    const warnings: string[] = [];
    const now = Date.now();
    if (Date.parse(parsed.notAfter) <= now) warnings.push(`the certificate expired on ${parsed.notAfter}; clients will refuse it`);
    else if (Date.parse(parsed.notBefore) > now) warnings.push(`the certificate is not valid before ${parsed.notBefore}`);
    const hosts = this.deps.hosts(app);
    const covered = hosts.filter((h) => namesCover(parsed.names, h));
    if (covered.length === 0) warnings.push(`it covers none of ${app}'s hosts (${hosts.join(', ')}); add the domain with domains:add`);
    this.deps.certs.put({
      app,
      source: 'custom',
      certPem: parsed.chainPem,
      keyPem: parsed.keyPem,
      names: parsed.names,
      issuer: parsed.issuer,
      serial: parsed.serial,
      notBefore: parsed.notBefore,
      notAfter: parsed.notAfter,
    });
    await this.deps.sync.sync();
    const entry = this.report(app).certificates.find((c) => c.source === 'custom')!;
    return { cert: entry, warnings };
  }

  /** paas's own hosts: the apex and `paas.<domain>` of the global domain, and the dashboard's. */
  private platformHosts(): string[] {
    const g = this.deps.globalDomain();
    return [...(g ? [g, `paas.${g}`] : []), ...this.deps.sync.alsoServed()];
  }

  /** Sends the proxy the TLS state again (after domains:set-global changed every app's host). */
  sync(): Promise<void> {
    return this.deps.sync.sync();
  }

  async remove(app: string): Promise<void> {
    if (!this.deps.certs.remove(app, 'custom')) throw CertErrors.notFound(`app '${app}' has no custom certificate`);
    await this.deps.sync.sync();
  }

  report(app: string): CertReport {
    const certs = this.deps.certs.forApp(app);
    const hosts = this.deps.hosts(app);
    const serving = new Map<StoredCert, string[]>();
    const uncovered: string[] = [];
    for (const h of hosts) {
      const c = certFor(certs, h);
      if (c) serving.set(c, [...(serving.get(c) ?? []), h]);
      else uncovered.push(h);
    }
    const opts = this.deps.certs.options(app);
    return {
      app,
      ...opts,
      certificates: certs.map((c) => ({
        source: c.source,
        names: c.names,
        issuer: c.issuer,
        serial: c.serial,
        notBefore: c.notBefore,
        notAfter: c.notAfter,
        daysLeft: daysLeft(c.notAfter),
        serves: serving.get(c) ?? [],
      })),
      uncovered,
    };
  }

  /** `redirect=on|off hsts=on|off`: all pairs are checked before any is applied. */
  async set(app: string, pairs: string[]): Promise<TlsOptions> {
    if (pairs.length === 0) throw CertErrors.invalidOption('give at least one of redirect=on|off, hsts=on|off');
    const next = { ...this.deps.certs.options(app) };
    for (const pair of pairs) {
      const m = /^(redirect|hsts)=(on|off)$/.exec(pair);
      if (!m) throw CertErrors.invalidOption(`'${pair}' is not one of redirect=on|off, hsts=on|off; nothing was changed`);
      next[m[1] as keyof TlsOptions] = m[2] === 'on';
    }
    this.deps.certs.setOptions(app, next);
    await this.deps.sync.sync();
    return next;
  }
}
