import type { Identity } from '../contracts/command-io.js';
import { isAppName } from '../contracts/names.js';
import { parsePublicKey } from '../ssh/public-key.js';
import type { AppsRepository } from '../state/apps-repository.js';
import type { KeyRole, SshKeyRow, SshKeysRepository } from '../state/ssh-keys-repository.js';
import { KeyErrors } from './key-errors.js';

const KEY_NAME = /^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$/;
const ROLES: readonly KeyRole[] = ['admin', 'developer'];

export interface KeyDeps {
  keys: Pick<SshKeysRepository, 'add' | 'byName' | 'byFingerprint' | 'list' | 'countAdmins' | 'remove' | 'appsOf' | 'grant' | 'revoke'>;
  apps: Pick<AppsRepository, 'exists'>;
  transaction<T>(fn: () => T): T;
  /** told the fingerprint of a removed key, so its open connections close at once */
  onRemoved(fingerprint: string): void;
}

export interface KeyInfo {
  name: string;
  role: KeyRole;
  canCreate: boolean;
  /** developer keys: the apps granted */
  apps: string[];
  fingerprint: string;
  createdAt: string;
}

export interface KeyOptions {
  role?: string;
  apps?: string[];
  canCreate?: boolean;
}

/** The SSH keys that may log in, their roles, and the apps granted to developer keys. */
export class KeyService {
  constructor(private readonly deps: KeyDeps) {}

  list(): KeyInfo[] {
    return this.deps.keys.list().map((k) => this.info(k));
  }

  /** The identity of a registered key, read afresh (null: no such key any more). */
  identify(fingerprint: string): Identity | null {
    const row = this.deps.keys.byFingerprint(fingerprint);
    if (!row) return null;
    return {
      keyName: row.name,
      role: row.role,
      apps: row.role === 'admin' ? [] : this.deps.keys.appsOf(row.id),
      canCreate: row.can_create === 1,
    };
  }

  /** Registers a public key (OpenSSH one-line format); an admin key unless `role` says developer. */
  add(name: string, publicKey: string, opts: KeyOptions = {}): KeyInfo & { type: string } {
    if (!KEY_NAME.test(name)) throw KeyErrors.badName(`invalid key name '${name}': use letters, digits, '.', '_', '@', '-' (max 64)`);
    const role = (opts.role ?? 'admin') as KeyRole;
    if (!ROLES.includes(role)) throw KeyErrors.usage(`unknown role '${opts.role}' (use admin or developer)`);
    if (role === 'admin' && (opts.apps?.length || opts.canCreate))
      throw KeyErrors.usage('--apps and --can-create are for developer keys: an admin key reaches every app');
    const apps = this.checkApps(opts.apps ?? []);
    const key = parsePublicKey(publicKey);
    const keys = this.deps.keys;
    if (keys.byName(name)) throw KeyErrors.exists(`a key named '${name}' already exists; remove it first`);
    const dup = keys.byFingerprint(key.fingerprint);
    if (dup) throw KeyErrors.exists(`this key is already registered as '${dup.name}'`);
    const row = this.deps.transaction(() => {
      const r = keys.add(name, key.fingerprint, key.canonical, role, opts.canCreate === true);
      keys.grant(r.id, apps);
      return r;
    });
    return { ...this.info(row), type: key.type };
  }

  grant(name: string, apps: string[]): KeyInfo {
    const row = this.developer(name);
    this.deps.keys.grant(row.id, this.checkApps(apps));
    return this.info(row);
  }

  revoke(name: string, apps: string[]): KeyInfo {
    const row = this.developer(name);
    const held = this.deps.keys.appsOf(row.id);
    const missing = apps.filter((a) => !held.includes(a));
    if (missing.length) throw KeyErrors.notGranted(`key '${name}' has no grant for ${missing.join(', ')}; nothing was changed`);
    this.deps.keys.revoke(row.id, apps);
    return this.info(row);
  }

  /** Removes a key and closes its open connections; the last admin key stays. */
  remove(name: string): void {
    const keys = this.deps.keys;
    const key = keys.byName(name);
    if (!key) throw KeyErrors.notFound(`no key named '${name}'`);
    this.deps.transaction(() => {
      if (key.role === 'admin' && keys.countAdmins() <= 1) {
        throw KeyErrors.lastAdmin(`'${key.name}' is the last admin key; add another admin key before removing it`);
      }
      keys.remove(key.name);
    });
    this.deps.onRemoved(key.fingerprint);
  }

  private developer(name: string): SshKeyRow {
    const row = this.deps.keys.byName(name);
    if (!row) throw KeyErrors.notFound(`no key named '${name}'`);
    if (row.role === 'admin') throw KeyErrors.usage(`'${name}' is an admin key: it reaches every app already`);
    return row;
  }

  private checkApps(apps: string[]): string[] {
    for (const a of apps) {
      if (!isAppName(a)) throw KeyErrors.usage(`invalid app name '${a}'; nothing was changed`);
      if (!this.deps.apps.exists(a)) throw KeyErrors.noApp(`app '${a}' does not exist; nothing was changed`);
    }
    return [...new Set(apps)];
  }

  private info(k: SshKeyRow): KeyInfo {
    return {
      name: k.name,
      role: k.role,
      canCreate: k.can_create === 1,
      apps: k.role === 'admin' ? [] : this.deps.keys.appsOf(k.id),
      fingerprint: k.fingerprint,
      createdAt: k.created_at,
    };
  }
}
