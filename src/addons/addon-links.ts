import type { Writable } from 'node:stream';
import { addonContainerName, generatePassword, suggestedAlias } from './addon-naming.js';
import type { AddonType } from './addon-type.js';
import { addonType } from './addon-types.js';
import { CONFIG_KEY } from '../inputs/operation-inputs.js';
import type { AddonRow } from '../state/addons-repository.js';
import { AddonErrors } from './addon-errors.js';
import type { AddonLogins } from './addon-logins.js';
import type { AddonDeps, AddonLookup } from './addon-deps.js';

export interface AddonLinksDeps extends Pick<AddonDeps, 'addons' | 'appExists' | 'containers' | 'networks' | 'config' | 'log'> {
  service: AddonLookup;
  logins: AddonLogins;
}

/**
 * Links between add-ons and apps: the service joins the app's network, the app gets its URL as
 * a config change (a new release rolled out health-gated) and, for a type with per-app logins,
 * its own login, disabled at unlink and dropped with its data when the app is destroyed.
 */
export class AddonLinks {
  constructor(private readonly deps: AddonLinksDeps) {}

  /** Makes every link's login on the running server of `row` (a new server, before a restore into it). */
  async ensureLogins(type: AddonType, row: AddonRow): Promise<void> {
    await this.deps.logins.grantAll(type, row.container, this.deps.addons.links(type.name, row.name));
  }

  /** The connection URL an app linked to it gets: its own login when the type has them, else the service's credentials. */
  url(type: AddonType, row: AddonRow, login: { user: string; password: string } | null): string {
    return type.url({ user: login?.user ?? row.user, password: login?.password ?? row.password, database: row.database }, row.container);
  }

  async link(
    type: AddonType,
    name: string,
    app: string,
    alias: string | undefined,
    out: Writable,
    signal: AbortSignal,
  ): Promise<{ variable: string; rolledOut: boolean }> {
    const d = this.deps;
    if (alias !== undefined && !CONFIG_KEY.test(alias))
      throw AddonErrors.usage(`invalid alias '${alias}': a variable name is letters, digits and '_', not starting with a digit`);
    const row = d.service.get(type, name);
    if (!d.appExists(app)) throw AddonErrors.notFound(`app '${app}' does not exist`);
    const variable = alias ?? type.urlVar;
    return d.service.withLock(type, name, `${type.name}:link`, out, signal, async () => {
      if (d.addons.links(type.name, name).some((l) => l.app === app))
        throw AddonErrors.alreadyLinked(`${type.name} service '${name}' is already linked to '${app}'`);
      const taken = (v: string, current: Record<string, string>) => v in current;
      // refuse before touching the network; checked again under the app lock by the config change
      const guard = (current: Record<string, string>) => {
        if (taken(variable, current))
          throw AddonErrors.varTaken(
            `${variable} is already set on '${app}'; link with --alias ${suggestedAlias(name, (v) => taken(v, current))} (or config:unset ${app} ${variable} first)`,
          );
      };
      guard(d.config.all(app));
      // the app's own login, made before its URL exists: the database must be up for it
      const login = type.appLogins ? { user: type.appLogins.name(app), password: generatePassword() } : null;
      if (login) await d.service.running(type, name);
      const network = d.networks.appNetwork(app);
      await d.networks.ensureNetwork(app);
      await d.containers.connect(row.container, network);
      try {
        out.write(`-----> Linking ${type.name} service ${name} to ${app} as ${variable}${login ? ` (login ${login.user})` : ''}\n`);
        if (login) await d.logins.grant(type, row.container, app, login.user, login.password);
        const change = await d.config.change(app, { [variable]: this.url(type, row, login) }, [], { noRestart: false, guard }, out, signal);
        d.addons.addLink(type.name, name, app, variable, login?.user ?? null, login?.password ?? null);
        d.log.info({ addon: name, type: type.name, app, variable, login: login?.user }, 'add-on linked');
        return { variable, rolledOut: change.rolledOut };
      } catch (e) {
        if (login) await d.logins.disable(type, row.container, app, login.user);
        await d.containers.disconnect(row.container, network).catch(() => {});
        throw e;
      }
    });
  }

  async unlink(
    type: AddonType,
    name: string,
    app: string,
    out: Writable,
    signal: AbortSignal,
  ): Promise<{ variable: string; rolledOut: boolean }> {
    const d = this.deps;
    const row = d.service.get(type, name);
    return d.service.withLock(type, name, `${type.name}:unlink`, out, signal, async () => {
      const link = d.addons.links(type.name, name).find((l) => l.app === app);
      if (!link) throw AddonErrors.notLinked(`${type.name} service '${name}' is not linked to '${app}'`);
      out.write(`-----> Unlinking ${type.name} service ${name} from ${app} (${link.var})\n`);
      // the variable goes first (a rollout without it), then the network: no live container loses its database
      const change = await d.config.change(app, {}, [link.var], { noRestart: false }, out, signal);
      await d.containers.disconnect(row.container, d.networks.appNetwork(app));
      d.addons.removeLink(type.name, name, app);
      // its login can no longer log in; its data stays for a later link of the same app
      if (link.login) {
        const failed = await d.logins.disable(type, row.container, app, link.login);
        out.write(
          failed
            ? `-----> WARNING: the login ${link.login} could not be disabled (${failed}); the service has left ${app}'s network\n`
            : `-----> Login ${link.login} disabled; its data stays in ${name} for a later link of ${app}\n`,
        );
      }
      d.log.info({ addon: name, type: type.name, app }, 'add-on unlinked');
      return { variable: link.var, rolledOut: change.rolledOut };
    });
  }

  /**
   * apps:destroy: every add-on leaves the app's network (its links go with the app's rows), and
   * the app's login is dropped with its data. A drop that fails (the service is down) is logged as
   * a warning naming the login: it and its schema then stay, and an app later linked under the
   * same name gets them.
   */
  async detachApp(app: string): Promise<void> {
    for (const l of this.deps.addons.linksOfApp(app)) {
      const t = addonType(l.type);
      if (!t) continue;
      const container = addonContainerName(l.type, l.name);
      if (l.login) await this.deps.logins.drop(t, container, app, l.login);
      await this.deps.containers.disconnect(container, this.deps.networks.appNetwork(app)).catch(() => {});
    }
  }
}
