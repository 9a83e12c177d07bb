import { parsePublicKey } from '../ssh/public-key.js';
import type { SshKeyRow, SshKeysRepository } from '../state/ssh-keys-repository.js';
import { KeyErrors } from './key-errors.js';

const KEY_NAME = /^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$/;

export interface KeyDeps {
  keys: Pick<SshKeysRepository, 'add' | 'byName' | 'byFingerprint' | 'list' | 'countAdmins' | 'remove'>;
  transaction<T>(fn: () => T): T;
}

/** The SSH keys that may log in. */
export class KeyService {
  constructor(private readonly deps: KeyDeps) {}

  list(): SshKeyRow[] {
    return this.deps.keys.list();
  }

  /** Registers a public key (OpenSSH one-line format) as an admin key. */
  add(name: string, publicKey: string): { type: string; fingerprint: string } {
    if (!KEY_NAME.test(name)) throw KeyErrors.badName(`invalid key name '${name}': use letters, digits, '.', '_', '@', '-' (max 64)`);
    const key = parsePublicKey(publicKey);
    const keys = this.deps.keys;
    if (keys.byName(name)) throw KeyErrors.exists(`a key named '${name}' already exists; remove it first`);
    const dup = keys.byFingerprint(key.fingerprint);
    if (dup) throw KeyErrors.exists(`this key is already registered as '${dup.name}'`);
    keys.add(name, key.fingerprint, key.canonical, 'admin');
    return { type: key.type, fingerprint: key.fingerprint };
  }

  /** Removes a key; the last admin key stays. */
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
  }
}
