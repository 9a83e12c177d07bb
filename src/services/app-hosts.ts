import { appHost } from '../contracts/names.js';
import type { AppsRepository } from '../state/apps-repository.js';
import type { DomainsRepository } from '../state/domains-repository.js';
import type { SettingsRepository } from '../state/settings-repository.js';

export interface AppHostsDeps {
  domains: Pick<DomainsRepository, 'list'>;
  apps: Pick<AppsRepository, 'exists'>;
  /** the global settings table: `domain` overrides the server flag */
  globals: Pick<SettingsRepository, 'get'>;
  /** the --domain flag */
  defaultDomain: string;
}

/**
 * The hosts an app answers on, read from the state each time: `<app>.<global domain>` first, then
 * its custom domains, leaving out one that is another app's default host (an app's own default
 * host always wins). The rollout routes these; DomainService manages them.
 */
export class AppHosts {
  constructor(private readonly deps: AppHostsDeps) {}

  /** The global domain: `domains:set-global` overrides the server flag. */
  globalDomain(): string {
    return this.deps.globals.get('domain') ?? this.deps.defaultDomain;
  }

  /** `<app>.<global domain>`: the host every app gets without a custom domain. */
  defaultHost(app: string): string {
    return appHost(app, this.globalDomain());
  }

  hosts(app: string): string[] {
    return [this.defaultHost(app), ...this.deps.domains.list(app).filter((d) => this.defaultHostOf(d) === null)];
  }

  /** The existing app whose default host `host` is, if any. */
  defaultHostOf(host: string): string | null {
    const suffix = `.${this.globalDomain()}`;
    if (!host.endsWith(suffix)) return null;
    const label = host.slice(0, -suffix.length);
    return !label.includes('.') && this.deps.apps.exists(label) ? label : null;
  }
}
