// Who may do what: the one rule set for commands and git, as pure functions over an Identity.
import type { Identity } from './command-io.js';

/**
 * What a command needs:
 * - `admin`: an admin key (keys, global settings, host paths);
 * - `app`: an admin key, or a developer key granted the command's app;
 * - `create`: an admin key, or a developer key added with --can-create (and, for an existing
 *   app, granted it): creating and destroying apps;
 * - `any`: every key (help, version, the app list, which shows a developer only its apps).
 */
export type Access = 'admin' | 'app' | 'create' | 'any';

export function canReach(identity: Identity, app: string): boolean {
  return identity.role === 'admin' || identity.apps.includes(app);
}

const noAccess = (identity: Identity, app: string) =>
  `key '${identity.keyName}' has no access to app '${app}' (an admin can grant it: ssh-keys:grant ${identity.keyName} ${app})`;

/**
 * Null when `identity` may run `command` on `app`; otherwise the one line that names the missing
 * right. `exists`: whether the app exists (a developer with --can-create may create a new one).
 */
export function refusal(identity: Identity, command: string, access: Access, app: string | null, exists: boolean): string | null {
  if (identity.role === 'admin' || access === 'any') return null;
  if (access === 'admin') return `'${command}' needs an admin key`;
  if (access === 'create') {
    if (!identity.canCreate) return `'${command}' needs an admin key or a key added with --can-create`;
    return app !== null && exists && !canReach(identity, app) ? noAccess(identity, app) : null;
  }
  return app === null || canReach(identity, app) ? null : noAccess(identity, app);
}

/** A git push: to a granted app, or (with --can-create) to a new app it then creates. A fetch: a granted app. */
export function gitRefusal(
  identity: Identity,
  service: 'git-receive-pack' | 'git-upload-pack',
  app: string,
  exists: boolean,
): string | null {
  if (canReach(identity, app)) return null;
  if (service === 'git-receive-pack' && !exists && identity.canCreate) return null;
  return noAccess(identity, app);
}
