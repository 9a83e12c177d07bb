import { Readable } from 'node:stream';
import { type AddonType, type AppLogins, lastLine } from './addon-type.js';
import type { Logger } from '../log/logger.js';
import type { AddonContainers } from './addon-containers.js';
import type { AddonLink } from '../state/addons-repository.js';
import { AddonErrors } from './addon-errors.js';

export interface AddonLoginsDeps {
  containers: Pick<AddonContainers, 'exec'>;
  log: Logger;
}

/**
 * The per-app logins of a running add-on (types with `appLogins`): made at link, disabled at
 * unlink (the data stays, a new link of the same app gets it back), dropped with its data when
 * the app is destroyed, and made again on a new server before a major upgrade restores into it.
 * Each runs the type's script as the superuser inside the add-on's container.
 */
export class AddonLogins {
  constructor(private readonly deps: AddonLoginsDeps) {}

  private async run(container: string, logins: AppLogins, script: string, what: string): Promise<void> {
    const r = await this.deps.containers.exec(container, logins.run, { stdin: Readable.from([script]) });
    if (r.exitCode !== 0) throw AddonErrors.unhealthy(`cannot ${what} in ${container}: ${lastLine(r.stderr) || `exit ${r.exitCode}`}`);
  }

  /** Creates (or enables again) `login` with `password`; the caller stores the password with the link. */
  async grant(type: AddonType, container: string, app: string, login: string, password: string): Promise<void> {
    const l = type.appLogins;
    if (!l) return;
    await this.run(container, l, l.grant(login, password), `create the login ${login} of ${app}`);
    this.deps.log.info({ container, app, login }, 'add-on login granted');
  }

  /** Every stored link's login, as stored (a new server before a restore; an old one's are kept). */
  async grantAll(type: AddonType, container: string, links: AddonLink[]): Promise<void> {
    for (const link of links) if (link.login && link.password) await this.grant(type, container, link.app, link.login, link.password);
  }

  /** Never throws: returns why it failed (the caller reports it), null when done. */
  async disable(type: AddonType, container: string, app: string, login: string): Promise<string | null> {
    return this.quietly(type, container, app, login, 'disable', (l) => l.disable(login));
  }

  /** Never throws: returns why it failed (the caller reports it), null when done. */
  async drop(type: AddonType, container: string, app: string, login: string): Promise<string | null> {
    return this.quietly(type, container, app, login, 'drop', (l) => l.drop(login));
  }

  private async quietly(
    type: AddonType,
    container: string,
    app: string,
    login: string,
    verb: string,
    script: (l: AppLogins) => string,
  ): Promise<string | null> {
    const l = type.appLogins;
    if (!l) return null;
    try {
      await this.run(container, l, script(l), `${verb} the login ${login} of ${app}`);
      this.deps.log.info({ container, app, login, verb }, 'add-on login changed');
      return null;
    } catch (e) {
      const why = (e as Error).message;
      this.deps.log.warn({ container, app, login, verb, err: why }, 'add-on login not changed');
      return why;
    }
  }
}
