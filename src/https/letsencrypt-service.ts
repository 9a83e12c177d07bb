import { X509Certificate } from 'node:crypto';
import type { Logger } from '../log/logger.js';
import type { AcmeApp, AcmeRepository } from '../state/acme-repository.js';
import type { CertificatesRepository, StoredCert } from '../state/certificates-repository.js';
import type { SettingsRepository } from '../state/settings-repository.js';
import { namesCover } from '../util/x509-names.js';
import { AcmeErrors } from './acme-errors.js';
import type { IssuedCert, IssueRequest } from './acme-issuer.js';
import { DEFAULT_ORDER_POLICY, type OrderPolicy, orderRefusal, type Refusal, refusalMessage } from './acme-order-gate.js';
import { describeCert } from './pem-bundle.js';
import type { TlsSync } from './tls-sync.js';

export const ACME_SERVERS: Record<string, string> = {
  production: 'https://acme-v02.api.letsencrypt.org/directory',
  staging: 'https://acme-staging-v02.api.letsencrypt.org/directory',
};

const DAY = 86_400_000;
const EMAIL = /^[^@\s]+@[^@\s]+\.[^@\s]+$/;

export interface LetsEncryptDeps {
  acme: AcmeRepository;
  certs: Pick<CertificatesRepository, 'get' | 'put' | 'remove'>;
  globals: Pick<SettingsRepository, 'get' | 'set'>;
  hosts: (app: string) => string[];
  issuer: { issue(req: IssueRequest): Promise<IssuedCert> };
  sync: Pick<TlsSync, 'sync'>;
  /** --acme-directory and --acme-email */
  defaults: { directoryUrl: string; email: string | undefined };
  /** first retry after a failed renewal; doubles up to a day */
  retryBaseMs: number;
  /** the per-app budget and the spacing of forced orders (acme-order-gate.ts); default DEFAULT_ORDER_POLICY */
  orderPolicy?: OrderPolicy;
  log: Logger;
}

/** Who asks for an order: a command (an admin key skips the budget and the spacing) or the renewal scheduler. */
export interface OrderTrigger {
  by: 'command' | 'scheduler';
  admin: boolean;
}

const BY_DEVELOPER: OrderTrigger = { by: 'command', admin: false };
export const BY_SCHEDULER: OrderTrigger = { by: 'scheduler', admin: false };
/** Failures the ACME server counted: their retry time outlives disable/enable. */
const SERVER_COUNTED = [AcmeErrors.rejected.code, AcmeErrors.rateLimited.code];

export interface LetsEncryptEntry {
  app: string;
  names: string[];
  notAfter: string | null;
  /** when the scheduler renews next (or retries, after a failure) */
  nextRenewal: string | null;
  failures: number;
  lastError: string | null;
}

/**
 * When a certificate is renewed: 30 days before it expires or at two thirds of its lifetime,
 * whichever comes first (a certificate of 30 days or less: at two thirds, so a 6-day one renews
 * after 4 days), minus up to 5% jitter so
 * many apps do not renew at the same minute.
 */
export function renewalTime(notBefore: string, notAfter: string, random = Math.random()): Date {
  const start = Date.parse(notBefore);
  const end = Date.parse(notAfter);
  const life = end - start;
  const thirtyBefore = end - 30 * DAY;
  const twoThirds = start + (2 * life) / 3;
  // a certificate shorter than 30 days would be "due" before it is issued: two thirds only
  const at = thirtyBefore > start ? Math.min(thirtyBefore, twoThirds) : twoThirds;
  return new Date(at - random * 0.05 * life);
}

function sameNames(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((n) => b.includes(n));
}

/**
 * letsencrypt:*: per-app certificates over ACME http-01, renewed by the control plane itself
 * (renewal-scheduler.ts) from the state kept in SQLite. A certificate that still fits is reused,
 * never re-ordered; a failure never removes the one that serves.
 */
export class LetsEncryptService {
  private readonly running = new Map<string, Promise<StoredCert | null>>();
  private readonly policy: OrderPolicy;

  constructor(private readonly deps: LetsEncryptDeps) {
    this.policy = deps.orderPolicy ?? DEFAULT_ORDER_POLICY;
  }

  settings(): { email: string | null; server: string } {
    return {
      email: this.deps.globals.get('letsencrypt.email') ?? this.deps.defaults.email ?? null,
      server: this.deps.globals.get('letsencrypt.server') ?? this.deps.defaults.directoryUrl,
    };
  }

  /** `letsencrypt:set --global email <addr>` / `server <production|staging|URL>`. */
  setGlobal(key: string, value: string): string {
    if (key === 'email') {
      if (!EMAIL.test(value)) throw AcmeErrors.invalidSetting(`'${value}' is not an email address`);
      this.deps.globals.set('letsencrypt.email', value);
      return value;
    }
    if (key === 'server') {
      const url = ACME_SERVERS[value] ?? value;
      let ok = false;
      try {
        ok = ['https:', 'http:'].includes(new URL(url).protocol);
      } catch {
        ok = false;
      }
      if (!ok) throw AcmeErrors.invalidSetting(`server must be production, staging or an ACME directory URL, got '${value}'`);
      this.deps.globals.set('letsencrypt.server', url);
      return url;
    }
    throw AcmeErrors.invalidSetting(`unknown setting '${key}' (known: email, server)`);
  }

  isEnabled(app: string): boolean {
    return this.deps.acme.get(app) !== undefined;
  }

  /** Enables and issues now; when it was not enabled before and the order fails, nothing stays changed. */
  async enable(app: string, out: (line: string) => void, trigger: OrderTrigger = BY_DEVELOPER): Promise<StoredCert | null> {
    const was = this.isEnabled(app);
    this.requireEmail();
    this.deps.acme.enable(app, SERVER_COUNTED);
    try {
      return await this.issue(app, out, false, trigger);
    } catch (err) {
      if (!was) this.deps.acme.disable(app);
      throw err;
    }
  }

  async disable(app: string): Promise<void> {
    if (!this.deps.acme.disable(app)) throw AcmeErrors.notEnabled(`Let's Encrypt is not enabled for '${app}'`);
    this.deps.certs.remove(app, 'letsencrypt');
    await this.deps.sync.sync();
  }

  list(): LetsEncryptEntry[] {
    return this.deps.acme.list().map((a) => this.entry(a));
  }

  private entry(a: AcmeApp): LetsEncryptEntry {
    const c = this.deps.certs.get(a.app, 'letsencrypt');
    const retry = a.nextAttemptAt;
    let next = retry && (!a.renewAt || retry > a.renewAt) ? retry : a.renewAt;
    // an app over its budget renews when the week frees a place (or later, when its certificate still fits)
    const now = Date.now();
    const held = this.refusal(a, false, BY_SCHEDULER, now);
    if (held?.reason === 'budget') {
      const due = this.fits(a, now) ? next : retry;
      next = due && Date.parse(due) > held.allowedAt ? due : new Date(held.allowedAt).toISOString();
    }
    return {
      app: a.app,
      names: c?.names ?? [],
      notAfter: c?.notAfter ?? null,
      nextRenewal: next,
      failures: a.failures,
      lastError: a.lastError,
    };
  }

  /** `letsencrypt:renew [app] [--force]`: one app, or every enabled app; failures are reported after all were tried. */
  async renew(
    app: string | null,
    force: boolean,
    out: (line: string) => void,
    trigger: OrderTrigger = BY_DEVELOPER,
  ): Promise<{ renewed: string[]; failed: string[] }> {
    const apps = app ? [app] : this.deps.acme.list().map((a) => a.app);
    if (app && !this.isEnabled(app)) throw AcmeErrors.notEnabled(`Let's Encrypt is not enabled for '${app}' (letsencrypt:enable ${app})`);
    const renewed: string[] = [];
    const failed: string[] = [];
    let first: unknown;
    for (const a of apps) {
      try {
        await this.issue(a, out, force, trigger);
        renewed.push(a);
      } catch (err) {
        failed.push(a);
        first ??= err;
        if (apps.length > 1) out(`!      ${a}: ${(err as Error).message}`);
      }
    }
    if (app && first) throw first;
    return { renewed, failed };
  }

  /**
   * After domains:add/remove: the proxy learns the hosts; an enabled app gets a certificate for the
   * new set (an order a domain change causes is held to the app's budget like any command's).
   */
  async hostsChanged(app: string, out: (line: string) => void, trigger: OrderTrigger = BY_DEVELOPER): Promise<void> {
    await this.deps.sync.sync();
    if (this.isEnabled(app)) await this.issue(app, out, false, trigger);
  }

  /** Apps the scheduler should renew now: no fitting certificate, or renewal time reached, and not backing off nor over budget. */
  dueApps(now = Date.now()): string[] {
    return this.deps.acme
      .list()
      .filter((a) => !this.refusal(a, false, BY_SCHEDULER, now) && !this.fits(a, now))
      .map((a) => a.app);
  }

  /** Why an order for this app may not go now (backoff, budget, spacing), or null. */
  private refusal(a: AcmeApp, forced: boolean, trigger: OrderTrigger, now: number): Refusal | null {
    const history = this.deps.acme.orders(a.app).map((o) => ({ at: Date.parse(o.startedAt), forced: o.forced, issued: o.issued }));
    const backoffUntil = a.nextAttemptAt ? Date.parse(a.nextAttemptAt) : null;
    return orderRefusal(history, backoffUntil, { forced, admin: trigger.admin }, this.policy, now);
  }

  /** The hosts Let's Encrypt should cover: the app's hosts minus those a valid custom certificate covers. */
  wantedNames(app: string, now = Date.now()): string[] {
    const custom = this.deps.certs.get(app, 'custom');
    const valid = custom && Date.parse(custom.notAfter) > now ? custom : undefined;
    return this.deps.hosts(app).filter((h) => !valid || !namesCover(valid.names, h));
  }

  /** The stored certificate is for exactly the wanted names and not yet due. */
  private fits(a: AcmeApp, now: number): boolean {
    const c = this.deps.certs.get(a.app, 'letsencrypt');
    const wanted = this.wantedNames(a.app, now);
    if (wanted.length === 0) return true;
    if (!c || !sameNames(c.names, wanted)) return false;
    const renewAt = a.renewAt ? Date.parse(a.renewAt) : renewalTime(c.notBefore, c.notAfter, 0).getTime();
    return now < renewAt;
  }

  /** One issuance per app at a time: a second caller waits for the first one's result. */
  issue(app: string, out: (line: string) => void, force: boolean, trigger: OrderTrigger = BY_DEVELOPER): Promise<StoredCert | null> {
    const busy = this.running.get(app);
    if (busy) {
      out(`-----> An order for ${app} is already running; waiting for it`);
      return busy;
    }
    const p = this.order(app, out, force, trigger).finally(() => this.running.delete(app));
    this.running.set(app, p);
    return p;
  }

  private async order(app: string, out: (line: string) => void, force: boolean, trigger: OrderTrigger): Promise<StoredCert | null> {
    const a = this.deps.acme.get(app);
    if (!a) throw AcmeErrors.notEnabled(`Let's Encrypt is not enabled for '${app}'`);
    const names = this.wantedNames(app);
    const current = this.deps.certs.get(app, 'letsencrypt');
    if (names.length === 0) {
      out(`-----> Every host of ${app} is covered by its custom certificate; nothing to order`);
      return current ?? null;
    }
    if (!force && current && this.fits(a, Date.now())) {
      // the names fit again (e.g. a failed domain was removed): a pending backoff no longer applies
      if (a.failures > 0) this.deps.acme.succeeded(app, a.renewAt ?? renewalTime(current.notBefore, current.notAfter).toISOString());
      out(
        `-----> The certificate for ${names.join(', ')} is valid until ${current.notAfter}; reused (renews from ${a.renewAt ?? 'its renewal time'})`,
      );
      return current;
    }
    // held to the backoff after a failure, the app's budget and the spacing of forced orders: refused, nothing changes
    const refused = this.refusal(a, force, trigger, Date.now());
    if (refused) {
      this.deps.log.warn({ app, ...refused, by: trigger.by, force }, 'certificate order refused');
      throw AcmeErrors.rateLimited(refusalMessage(app, refused, this.policy));
    }
    const { server, email } = this.settings();
    const startedAt = new Date().toISOString();
    const record = { app, startedAt, forced: force, by: trigger.by };
    let issuedRecorded = false;
    try {
      const issued = await this.deps.issuer.issue({ directoryUrl: server, email: this.requireEmail(), names, out });
      // counted as soon as the ACME server issued it, whatever happens next
      this.deps.acme.recordOrder({ ...record, issued: true, errorCode: null, nextAttemptAt: null });
      issuedRecorded = true;
      const info = describeCert(new X509Certificate(issued.certPem));
      const stored = { app, source: 'letsencrypt' as const, certPem: issued.certPem, keyPem: issued.keyPem, ...info };
      this.deps.certs.put(stored);
      const renewAt = renewalTime(info.notBefore, info.notAfter);
      this.deps.acme.succeeded(app, renewAt.toISOString());
      await this.deps.sync.sync();
      out(
        `-----> Serving it now for ${info.names.join(', ')} (serial ${info.serial}, expires ${info.notAfter}, renews from ${renewAt.toISOString()})`,
      );
      this.deps.log.info({ app, names: info.names, serial: info.serial, notAfter: info.notAfter, email }, 'certificate issued');
      return this.deps.certs.get(app, 'letsencrypt') ?? null;
    } catch (err) {
      const e = err as Error & { retryAfter?: Date };
      const failures = a.failures + 1;
      const next = e.retryAfter ?? new Date(Date.now() + Math.min(this.deps.retryBaseMs * 2 ** (failures - 1), DAY));
      this.deps.acme.failed(app, e.message, next.toISOString());
      if (!issuedRecorded)
        this.deps.acme.recordOrder({
          ...record,
          issued: false,
          errorCode: (err as { code?: string }).code ?? null,
          nextAttemptAt: next.toISOString(),
        });
      this.deps.log.warn({ app, names, err: e.message, failures, nextAttempt: next.toISOString() }, 'certificate order failed');
      throw err;
    }
  }

  private requireEmail(): string {
    const email = this.settings().email;
    if (!email)
      throw AcmeErrors.noEmail('no ACME account email: run letsencrypt:set --global email ADDR (or start the server with --acme-email)');
    return email;
  }
}
