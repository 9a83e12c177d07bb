import { canReach } from '../contracts/access.js';
import type { Identity } from '../contracts/command-io.js';
import { normalizeDomain } from '../inputs/operation-inputs.js';
import type { ProxyPort, RuntimePort } from '../deploy/adapter-interfaces.js';
import type { Rollout } from '../deploy/rollout.js';
import type { Logger } from '../log/logger.js';
import type { AppsRepository } from '../state/apps-repository.js';
import type { DomainsRepository } from '../state/domains-repository.js';
import type { ReleasesRepository } from '../state/releases-repository.js';
import type { SettingsRepository } from '../state/settings-repository.js';
import type { Locks } from '../deploy/app-locks.js';
import { AppHosts } from './app-hosts.js';
import { DomainErrors } from './domain-errors.js';

export interface DomainDeps {
  domains: Pick<DomainsRepository, 'add' | 'remove' | 'owner' | 'list'>;
  apps: Pick<AppsRepository, 'list' | 'exists'>;
  releases: Pick<ReleasesRepository, 'current'>;
  /** the global settings table: `domain` overrides the server flag */
  globals: Pick<SettingsRepository, 'get' | 'set'>;
  /** the --domain flag */
  defaultDomain: string;
  rollout: Pick<Rollout, 'proxySpec' | 'serves'>;
  runtime: Pick<RuntimePort, 'list'>;
  proxy: ProxyPort;
  locks: Locks;
  log: Logger;
  /** whether one of the app's hosts has a certificate that serves it over HTTPS (fed by the certificate store; absent: none has) */
  secure?(app: string, host: string): boolean;
}

/**
 * Custom and global domains. A change re-sends the app's hosts to the proxy under the app lock,
 * so it never races a deploy that is swapping the app's targets.
 */
export class DomainService {
  constructor(private readonly deps: DomainDeps) {
    this.names = new AppHosts(deps);
  }

  private readonly names: AppHosts;

  /** The global domain: `domains:set-global` overrides the server flag. */
  globalDomain(): string {
    return this.names.globalDomain();
  }

  /** `<app>.<global domain>`: the host every app gets without a custom domain. */
  defaultHost(app: string): string {
    return this.names.defaultHost(app);
  }

  /** The hosts paas keeps for itself under the global domain: the apex and `paas.<domain>`. Admin keys only. */
  reservedHosts(): string[] {
    const g = this.globalDomain();
    return [g, `paas.${g}`];
  }

  /** Every host of the app, the global one first (AppHosts: another app's default host is left out). */
  hosts(app: string): string[] {
    return this.names.hosts(app);
  }

  /** The app's URLs, the global host first: https for a host with a certificate, http otherwise. */
  urls(app: string): string[] {
    return this.hosts(app).map((h) => `${this.deps.secure?.(app, h) ? 'https' : 'http'}://${h}`);
  }

  list(app: string): { domain: string; kind: 'global' | 'custom' }[] {
    return [
      { domain: this.defaultHost(app), kind: 'global' },
      ...this.deps.domains.list(app).map((domain) => ({ domain, kind: 'custom' as const })),
    ];
  }

  async add(app: string, input: string, by: Identity): Promise<string> {
    const domain = normalizeDomain(input);
    const owner = this.deps.domains.owner(domain);
    this.checkFree(app, domain, owner);
    if (by.role !== 'admin') this.checkDeveloperHost(domain, by);
    if (owner === app || this.defaultHost(app) === domain) throw DomainErrors.exists(`domain ${domain} already routes to '${app}'`);
    try {
      this.deps.domains.add(app, domain);
    } catch {
      throw DomainErrors.taken(`domain ${domain} already routes to app '${this.deps.domains.owner(domain) ?? 'another app'}'`);
    }
    await this.reroute(app);
    return domain;
  }

  async remove(app: string, input: string): Promise<string> {
    const domain = normalizeDomain(input);
    if (this.deps.domains.owner(domain) !== app) throw DomainErrors.missing(`domain ${domain} is not routed to app '${app}'`);
    this.deps.domains.remove(domain);
    await this.reroute(app);
    return domain;
  }

  async setGlobal(input: string): Promise<{ domain: string; rerouted: string[]; failed: string[] }> {
    const domain = normalizeDomain(input);
    this.deps.globals.set('domain', domain);
    const rerouted: string[] = [];
    const failed: string[] = [];
    for (const a of this.deps.apps.list()) {
      try {
        await this.reroute(a.name);
        rerouted.push(a.name);
      } catch (err) {
        this.deps.log.warn({ err, app: a.name }, 'reroute after global domain change failed');
        failed.push(a.name);
      }
    }
    return { domain, rerouted, failed };
  }

  /**
   * Called when `app` has just been made: its default host wins over a custom domain another app
   * took for it before it existed (an admin's, or one stored before developers were held to their
   * own names). That domain is removed from the other app and its routes are sent again, so the proxy
   * frees the host before the new app's first deploy. Returns the app it was taken from, if any.
   */
  async claimDefaultHost(app: string): Promise<string | null> {
    const host = this.defaultHost(app);
    const owner = this.deps.domains.owner(host);
    if (!owner || owner === app) return null;
    this.deps.domains.remove(host);
    this.deps.log.warn({ app, host, was: owner }, "a new app's default host was another app's custom domain: removed from it");
    await this.reroute(owner).catch((err) => this.deps.log.warn({ err, app: owner }, 'reroute after giving up a host failed'));
    return owner;
  }

  /**
   * A developer key may add any host outside the global domain, and under it only hosts of its own
   * apps' names (`<app>.<global>` or deeper, `www.<app>.<global>`): otherwise it could take the host of
   * an app made later. The apex and paas's own hosts are for admin keys.
   */
  private checkDeveloperHost(domain: string, by: Identity): void {
    const g = this.globalDomain();
    if (this.reservedHosts().includes(domain))
      throw DomainErrors.reserved(`${domain} is reserved for paas itself: only an admin key may add it`);
    if (!domain.endsWith(`.${g}`)) return;
    const name = domain
      .slice(0, -(g.length + 1))
      .split('.')
      .pop()!;
    if (!canReach(by, name))
      throw DomainErrors.reserved(
        `${domain} is under the global domain ${g}: a developer key may add hosts there only for its own apps' names (<app>.${g}, www.<app>.${g})`,
      );
  }

  /** `owner`: the app the domain is stored for, if any. */
  private checkFree(app: string, domain: string, owner: string | undefined): void {
    if (owner && owner !== app) throw DomainErrors.taken(`domain ${domain} already routes to app '${owner}'`);
    for (const other of this.deps.apps.list()) {
      if (other.name !== app && this.defaultHost(other.name) === domain)
        throw DomainErrors.taken(`domain ${domain} already routes to app '${other.name}'`);
    }
  }

  /** Re-sends the app's hosts to the proxy (nothing to do before the first deploy or without running web containers). */
  private reroute(app: string): Promise<void> {
    const d = this.deps;
    return d.locks.withLock(app, 'a domain change', async () => {
      const live = d.releases.current(app);
      if (!live) return;
      const web = (await d.runtime.list({ app, process: 'web' })).filter((c) => c.state === 'running' && c.ip);
      if (web.length === 0) return;
      const targets = web.filter((c) => d.rollout.serves(app, live, c)).map((c) => `${c.ip}:${c.port}`);
      await d.proxy.deploy(app, d.rollout.proxySpec(app, targets));
    });
  }
}
