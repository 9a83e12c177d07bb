import { AppError } from '../errors/app-error.js';
import type { Logger } from '../log/logger.js';
import type { State } from '../state/state.js';
import type { AppLocks } from './app-locks.js';
import type { AppManager } from './app-manager.js';
import { normalizeDomain } from './operation-inputs.js';
import type { Rollout } from './rollout.js';

const E = {
  taken: (d: string, owner: string) => new AppError('PAAS_ERR_DOMAIN_TAKEN', `domain ${d} already routes to app '${owner}'`),
  missing: (d: string, app: string) => new AppError('PAAS_ERR_DOMAIN_NOT_FOUND', `domain ${d} is not routed to app '${app}'`),
  exists: (d: string, app: string) => new AppError('PAAS_ERR_DOMAIN_EXISTS', `domain ${d} already routes to '${app}'`),
};

/**
 * Custom and global domains. A change re-sends the app's hosts to the proxy under the app lock,
 * so it never races a deploy that is swapping the app's targets.
 */
export class DomainManager {
  constructor(
    private readonly state: State,
    private readonly rollout: Rollout,
    private readonly locks: AppLocks,
    private readonly apps: AppManager,
    private readonly log: Logger,
  ) {}

  private reroute(app: string): Promise<void> {
    return this.locks.withLock(app, 'a domain change', () => this.apps.reroute(app));
  }

  /** `owner`: the app the domain is stored for, if any. */
  private checkFree(app: string, domain: string, owner: string | undefined): void {
    if (owner && owner !== app) throw E.taken(domain, owner);
    for (const other of this.state.apps.list()) {
      if (other.name !== app && this.rollout.defaultHost(other.name) === domain) throw E.taken(domain, other.name);
    }
  }

  async add(app: string, input: string): Promise<string> {
    const domain = normalizeDomain(input);
    const owner = this.state.domains.owner(domain);
    this.checkFree(app, domain, owner);
    if (owner === app || this.rollout.defaultHost(app) === domain) throw E.exists(domain, app);
    try {
      this.state.domains.add(app, domain);
    } catch {
      throw E.taken(domain, this.state.domains.owner(domain) ?? 'another app');
    }
    await this.reroute(app);
    return domain;
  }

  async remove(app: string, input: string): Promise<string> {
    const domain = normalizeDomain(input);
    if (this.state.domains.owner(domain) !== app) throw E.missing(domain, app);
    this.state.domains.remove(domain);
    await this.reroute(app);
    return domain;
  }

  async setGlobal(input: string): Promise<{ domain: string; rerouted: string[]; failed: string[] }> {
    const domain = normalizeDomain(input);
    this.state.settings.set('domain', domain);
    const rerouted: string[] = [];
    const failed: string[] = [];
    for (const a of this.state.apps.list()) {
      try {
        await this.reroute(a.name);
        rerouted.push(a.name);
      } catch (err) {
        this.log.warn({ err, app: a.name }, 'reroute after global domain change failed');
        failed.push(a.name);
      }
    }
    return { domain, rerouted, failed };
  }
}
