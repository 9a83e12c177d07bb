import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parsePublicKey } from '../../../src/ssh/public-key.js';
import { keySetup, publicKey } from '../fakes/app-services-fakes.js';

describe('KeyService: add', () => {
  test('a key is an admin key by default, stored by its fingerprint without the comment', () => {
    const s = keySetup();
    const line = publicKey('alice@laptop');
    const parsed = parsePublicKey(line);
    const info = s.keys.add('alice', line);
    assert.deepEqual(info, {
      name: 'alice',
      role: 'admin',
      canCreate: false,
      apps: [],
      fingerprint: parsed.fingerprint,
      createdAt: s.state.keys.byName('alice')!.created_at,
      type: 'ssh-ed25519',
    });
    assert.equal(s.state.keys.byName('alice')!.public_key, parsed.canonical);
    assert.deepEqual(s.keys.identify(parsed.fingerprint), { keyName: 'alice', role: 'admin', apps: [], canCreate: false });
    assert.deepEqual(
      s.keys.list().map((k) => [k.name, k.role]),
      [['alice', 'admin']],
    );
  });

  test('a developer key gets its apps (once each, sorted) and --can-create; identify reads them afresh', () => {
    const s = keySetup();
    for (const a of ['a', 'b', 'c']) s.state.apps.create(a);
    const line = publicKey();
    const info = s.keys.add('dev', line, { role: 'developer', apps: ['b', 'a', 'b'], canCreate: true });
    assert.equal(info.role, 'developer');
    assert.equal(info.canCreate, true);
    assert.deepEqual(info.apps, ['a', 'b']);
    const fp = parsePublicKey(line).fingerprint;
    assert.deepEqual(s.keys.identify(fp), { keyName: 'dev', role: 'developer', apps: ['a', 'b'], canCreate: true });
    s.keys.grant('dev', ['c']);
    assert.deepEqual(s.keys.identify(fp)!.apps, ['a', 'b', 'c']);
    assert.equal(s.keys.identify('SHA256:unknown'), null);
  });

  test('bad input is refused with its code and nothing is stored', () => {
    const s = keySetup();
    s.state.apps.create('a');
    const line = publicKey();
    const cases: [() => unknown, string, string][] = [
      [() => s.keys.add('-bad', line), 'PAAS_ERR_KEY_NAME', "invalid key name '-bad': use letters, digits, '.', '_', '@', '-' (max 64)"],
      [
        () => s.keys.add('x'.repeat(65), line),
        'PAAS_ERR_KEY_NAME',
        `invalid key name '${'x'.repeat(65)}': use letters, digits, '.', '_', '@', '-' (max 64)`,
      ],
      [() => s.keys.add('k', line, { role: 'owner' }), 'PAAS_ERR_KEY_USAGE', "unknown role 'owner' (use admin or developer)"],
      [
        () => s.keys.add('k', line, { apps: ['a'] }),
        'PAAS_ERR_KEY_USAGE',
        '--apps and --can-create are for developer keys: an admin key reaches every app',
      ],
      [
        () => s.keys.add('k', line, { role: 'admin', canCreate: true }),
        'PAAS_ERR_KEY_USAGE',
        '--apps and --can-create are for developer keys: an admin key reaches every app',
      ],
      [
        () => s.keys.add('k', line, { role: 'developer', apps: ['Bad_Name'] }),
        'PAAS_ERR_KEY_USAGE',
        "invalid app name 'Bad_Name'; nothing was changed",
      ],
      [
        () => s.keys.add('k', line, { role: 'developer', apps: ['a', 'gone'] }),
        'PAAS_ERR_KEY_NO_APP',
        "app 'gone' does not exist; nothing was changed",
      ],
      [
        () => s.keys.add('k', 'ssh-ed25519 AAAAnotakey'),
        'PAAS_ERR_KEY_INVALID',
        'not an OpenSSH public key (expected a line like "ssh-ed25519 AAAA… comment")',
      ],
      [() => s.keys.add('k', '# only a comment\n'), 'PAAS_ERR_KEY_INVALID', 'no public key given on stdin'],
    ];
    for (const [run, code, message] of cases) assert.throws(run, { code, message });
    assert.deepEqual(s.keys.list(), []);
  });

  test('a second key of the same name, or the same key under another name, is refused', () => {
    const s = keySetup();
    const line = publicKey();
    s.keys.add('alice', line);
    assert.throws(() => s.keys.add('alice', publicKey()), {
      code: 'PAAS_ERR_KEY_EXISTS',
      message: "a key named 'alice' already exists; remove it first",
    });
    assert.throws(() => s.keys.add('bob', line.replace('me@host', 'other comment')), {
      code: 'PAAS_ERR_KEY_EXISTS',
      message: "this key is already registered as 'alice'",
    });
    assert.deepEqual(
      s.keys.list().map((k) => k.name),
      ['alice'],
    );
  });
});

describe('KeyService: grant and revoke', () => {
  function withDeveloper() {
    const s = keySetup();
    for (const a of ['a', 'b', 'c']) s.state.apps.create(a);
    s.keys.add('root', publicKey());
    s.keys.add('dev', publicKey(), { role: 'developer', apps: ['a'] });
    return s;
  }

  test('grant adds apps to a developer key; revoke takes them back', () => {
    const s = withDeveloper();
    assert.deepEqual(s.keys.grant('dev', ['c', 'b', 'a']).apps, ['a', 'b', 'c']);
    assert.deepEqual(s.keys.revoke('dev', ['a', 'c']).apps, ['b']);
    assert.deepEqual(s.keys.list().find((k) => k.name === 'dev')!.apps, ['b']);
  });

  test('refusals change no grant: unknown key, admin key, bad or missing app, an app not granted', () => {
    const s = withDeveloper();
    const cases: [() => unknown, string, string][] = [
      [() => s.keys.grant('nobody', ['a']), 'PAAS_ERR_KEY_NOT_FOUND', "no key named 'nobody'"],
      [() => s.keys.revoke('nobody', ['a']), 'PAAS_ERR_KEY_NOT_FOUND', "no key named 'nobody'"],
      [() => s.keys.grant('root', ['a']), 'PAAS_ERR_KEY_USAGE', "'root' is an admin key: it reaches every app already"],
      [() => s.keys.revoke('root', ['a']), 'PAAS_ERR_KEY_USAGE', "'root' is an admin key: it reaches every app already"],
      [() => s.keys.grant('dev', ['b', 'UPPER']), 'PAAS_ERR_KEY_USAGE', "invalid app name 'UPPER'; nothing was changed"],
      [() => s.keys.grant('dev', ['b', 'gone']), 'PAAS_ERR_KEY_NO_APP', "app 'gone' does not exist; nothing was changed"],
      [() => s.keys.revoke('dev', ['a', 'b', 'c']), 'PAAS_ERR_KEY_NOT_GRANTED', "key 'dev' has no grant for b, c; nothing was changed"],
    ];
    for (const [run, code, message] of cases) assert.throws(run, { code, message });
    assert.deepEqual(
      s.keys.list().map((k) => [k.name, k.apps]),
      [
        ['dev', ['a']],
        ['root', []],
      ],
    );
  });
});

describe('KeyService: remove', () => {
  test('remove deletes the key and its grants and closes its connections; identify then finds nothing', () => {
    const s = keySetup();
    s.state.apps.create('a');
    s.keys.add('root', publicKey());
    const line = publicKey();
    const dev = s.keys.add('dev', line, { role: 'developer', apps: ['a'] });
    const id = s.state.keys.byName('dev')!.id;
    s.keys.remove('dev');
    assert.deepEqual(s.removed, [dev.fingerprint]);
    assert.equal(s.keys.identify(dev.fingerprint), null);
    assert.deepEqual(s.state.keys.appsOf(id), []);
    assert.deepEqual(
      s.keys.list().map((k) => k.name),
      ['root'],
    );
  });

  test('the last admin key stays; with a second admin key either may go', () => {
    const s = keySetup();
    s.keys.add('dev', publicKey(), { role: 'developer' });
    const root = s.keys.add('root', publicKey());
    assert.throws(() => s.keys.remove('root'), {
      code: 'PAAS_ERR_KEY_LAST_ADMIN',
      message: "'root' is the last admin key; add another admin key before removing it",
    });
    assert.deepEqual(s.removed, []);
    assert.equal(s.keys.identify(root.fingerprint)!.keyName, 'root');
    s.keys.add('root2', publicKey());
    s.keys.remove('root');
    assert.deepEqual(s.removed, [root.fingerprint]);
    assert.throws(() => s.keys.remove('root2'), { code: 'PAAS_ERR_KEY_LAST_ADMIN' });
  });

  test('removing a key that does not exist is refused', () => {
    const s = keySetup();
    assert.throws(() => s.keys.remove('ghost'), { code: 'PAAS_ERR_KEY_NOT_FOUND', message: "no key named 'ghost'" });
    assert.deepEqual(s.removed, []);
  });
});
