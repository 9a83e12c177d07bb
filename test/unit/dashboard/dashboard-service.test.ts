// Login links and sessions over a real SQLite file: one use, expiry, hashed storage, TTL,
// revocation, key removal, rate limits, and the settings' bad input.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, beforeEach, describe, test } from 'node:test';
import { HOST_ADMIN, type Identity } from '../../../src/contracts/command-io.js';
import { DashboardService } from '../../../src/dashboard/dashboard-service.js';
import { hashSecret } from '../../../src/dashboard/dashboard-secrets.js';
import { KeyService } from '../../../src/services/key-service.js';
import { DashboardLoginsRepository } from '../../../src/state/dashboard-logins-repository.js';
import { DashboardSessionsRepository } from '../../../src/state/dashboard-sessions-repository.js';
import { State } from '../../../src/state/state.js';

describe('DashboardService', () => {
  const dirs: string[] = [];
  let state: State;
  let svc: DashboardService;
  let keys: KeyService;
  let clock: number;
  let ended: string[];
  let routed: number;
  const id = (name: string): Identity => keys.identify(state.keys.byName(name)!.fingerprint)!;
  const tokenOf = (link: string) => new URL(link).pathname.split('/').pop()!;

  beforeEach(() => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dash-svc-'));
    dirs.push(dir);
    state = State.open(path.join(dir, 'paas.db'));
    keys = new KeyService({ keys: state.keys, onRemoved: () => {} } as unknown as ConstructorParameters<typeof KeyService>[0]);
    state.keys.add('alice', 'SHA256:a', 'ssh-ed25519 AAAA a', 'admin');
    state.keys.add('dev', 'SHA256:d', 'ssh-ed25519 AAAA d', 'developer');
    state.keys.add('dev2', 'SHA256:e', 'ssh-ed25519 AAAA e', 'developer');
    state.apps.create('shop');
    clock = 1_000_000;
    ended = [];
    routed = 0;
    svc = new DashboardService({
      logins: new DashboardLoginsRepository(state.db),
      sessions: new DashboardSessionsRepository(state.db),
      keys: state.keys,
      identify: (fp) => keys.identify(fp),
      settings: state.settings,
      globalDomain: () => 'example.com',
      hostOwner: (h) => (h === 'shop.example.com' ? 'shop' : null),
      httpsPort: () => 8443,
      applyRoute: async () => {
        routed++;
      },
      onEnded: (ids) => ended.push(...ids),
      now: () => clock,
    });
  });
  after(() => {
    for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
  });

  test('a link names the host and port, holds a 256-bit token stored only hashed, and opens one session once', () => {
    const link = svc.loginLink(id('alice'), '/apps/shop');
    assert.match(link, /^https:\/\/paas\.example\.com:8443\/login\/[A-Za-z0-9_-]{43}\?next=%2Fapps%2Fshop$/);
    const token = tokenOf(link);
    const rows = state.db.prepare('SELECT token_hash FROM dashboard_logins').all() as { token_hash: string }[];
    assert.deepEqual(
      rows.map((r) => r.token_hash),
      [hashSecret(token)],
    );
    const s = svc.login(token, '192.0.2.1', 'test');
    assert.ok(s);
    assert.equal(s.next, '/apps/shop');
    assert.equal(svc.login(token, '192.0.2.1', 'test'), null, 'second use refused');
    const auth = svc.authenticate(s.secret);
    assert.equal(auth?.identity.keyName, 'alice');
    assert.equal(auth?.identity.role, 'admin');
    const stored = state.db.prepare('SELECT secret_hash FROM dashboard_sessions').get() as { secret_hash: string };
    assert.equal(stored.secret_hash, hashSecret(s.secret));
    assert.notEqual(stored.secret_hash, s.secret);
  });

  test('an expired link is refused', () => {
    const token = tokenOf(svc.loginLink(id('dev'), '/'));
    clock += 5 * 60_000 + 1;
    assert.equal(svc.login(token, '192.0.2.1', 'ua'), null);
  });

  test('sessions expire after the TTL; a lowered session-ttl shortens open ones', async () => {
    const s = svc.login(tokenOf(svc.loginLink(id('dev'))), 'c', 'ua')!;
    clock += 3_600_000;
    assert.ok(svc.authenticate(s.secret));
    await svc.set('session-ttl', '30m');
    assert.equal(svc.authenticate(s.secret), null);
    const t = svc.login(tokenOf(svc.loginLink(id('dev'))), 'c', 'ua')!;
    clock += 29 * 60_000;
    assert.ok(svc.authenticate(t.secret));
    clock += 2 * 60_000;
    assert.equal(svc.authenticate(t.secret), null);
  });

  test("a grant or role change applies to the open session; a removed key's sessions end", () => {
    const s = svc.login(tokenOf(svc.loginLink(id('dev'))), 'c', 'ua')!;
    assert.deepEqual(svc.authenticate(s.secret)?.identity.apps, []);
    state.keys.grant(state.keys.byName('dev')!.id, ['shop']);
    assert.deepEqual(svc.authenticate(s.secret)?.identity.apps, ['shop']);
    state.keys.remove('dev');
    assert.equal(svc.authenticate(s.secret), null);
    assert.equal((state.db.prepare('SELECT count(*) AS n FROM dashboard_sessions').get() as { n: number }).n, 0);
  });

  test('a developer lists and revokes only its own sessions; an admin all', () => {
    const a = svc.login(tokenOf(svc.loginLink(id('dev'))), 'c1', 'ua')!;
    const b = svc.login(tokenOf(svc.loginLink(id('dev2'))), 'c2', 'ua')!;
    assert.deepEqual(
      svc.sessions(id('dev')).map((s) => s.id),
      [a.id],
    );
    assert.equal(svc.sessions(id('alice')).length, 2);
    assert.throws(() => svc.revoke(id('dev'), { id: b.id }), { code: 'PAAS_ERR_DASHBOARD_NO_SESSION' });
    assert.ok(svc.authenticate(b.secret), "dev2's session untouched");
    assert.deepEqual(svc.revoke(id('dev'), { all: true }), [a.id]);
    assert.deepEqual(ended, [a.id]);
    assert.ok(svc.authenticate(b.secret));
    assert.deepEqual(svc.revoke(id('alice'), { id: b.id }), [b.id]);
    assert.equal(svc.authenticate(b.secret), null);
  });

  test('bad input: next paths, session ids, settings; paas admin has no key', async () => {
    for (const p of ['//evil.example', 'https://evil.example', '/x\\y', 'apps', '/a b', `/${'x'.repeat(300)}`]) {
      assert.throws(() => svc.loginLink(id('alice'), p), { code: 'PAAS_ERR_DASHBOARD_USAGE' }, p);
    }
    assert.throws(() => svc.loginLink(HOST_ADMIN), { code: 'PAAS_ERR_DASHBOARD_NO_KEY' });
    assert.throws(() => svc.revoke(id('alice'), { id: 'nope' }), { code: 'PAAS_ERR_DASHBOARD_USAGE' });
    for (const [k, v] of [
      ['host', 'not a host'],
      ['enabled', 'maybe'],
      ['session-ttl', '13h'],
      ['session-ttl', '1s'],
      ['colour', 'red'],
    ]) {
      await assert.rejects(svc.set(k!, v!), { code: 'PAAS_ERR_DASHBOARD_USAGE' }, `${k} ${v}`);
    }
    await assert.rejects(svc.set('host', 'shop.example.com'), { code: 'PAAS_ERR_DASHBOARD_HOST_TAKEN' });
    assert.equal(routed, 0);
    assert.deepEqual(svc.settings(), { host: 'paas.example.com', enabled: true, sessionTtlMs: 12 * 3_600_000 });
  });

  test('settings: host and enabled re-route; off refuses new links', async () => {
    await svc.set('host', 'Dash.Example.com');
    assert.equal(svc.settings().host, 'dash.example.com');
    await svc.set('enabled', 'off');
    assert.equal(routed, 2);
    assert.throws(() => svc.loginLink(id('alice')), { code: 'PAAS_ERR_DASHBOARD_DISABLED' });
  });

  test('rate limits: links per key, login attempts per address', () => {
    for (let i = 0; i < 20; i++) svc.loginLink(id('dev'));
    assert.throws(() => svc.loginLink(id('dev')), { code: 'PAAS_ERR_DASHBOARD_RATE_LIMITED' });
    svc.loginLink(id('alice'));
    for (let i = 0; i < 20; i++) assert.equal(svc.login(`guess${i}`.padEnd(43, 'x'), '198.51.100.7', 'ua'), null);
    assert.throws(() => svc.login('x'.repeat(43), '198.51.100.7', 'ua'), { code: 'PAAS_ERR_DASHBOARD_RATE_LIMITED' });
    assert.equal(svc.login('x'.repeat(43), '198.51.100.8', 'ua'), null, 'another address is not limited');
    // a good link still counts nothing against its address
    const good = svc.loginLink(id('alice'));
    assert.throws(() => svc.login(tokenOf(good), '198.51.100.7', 'ua'), { code: 'PAAS_ERR_DASHBOARD_RATE_LIMITED' });
    assert.ok(svc.login(tokenOf(good), '198.51.100.9', 'ua'));
    clock += 60_000;
    svc.loginLink(id('dev'));
    assert.equal(svc.login('x'.repeat(43), '198.51.100.7', 'ua'), null);
  });
});
