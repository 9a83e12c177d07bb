// certs:add/remove/report/set on a temp-dir SQLite State and the real TlsSync, whose proxy is a fake
// recording every TLS state sent; certificates are real ones made with openssl.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, mock, test } from 'node:test';
import { CertService } from '../../../src/https/cert-service.js';
import { TlsSync } from '../../../src/https/tls-sync.js';
import { silentLogger } from '../../../src/log/logger.js';
import type { TlsState } from '../../../src/proxy/tls/tls-state.js';
import { State } from '../../../src/state/state.js';
import { makeCa, makeCert } from '../../helpers/test-certs.js';

// certificates from a throwaway CA (test/helpers/test-certs.ts), made in parallel once for the file
const ca = await makeCa(fs.mkdtempSync(path.join(os.tmpdir(), 'paas-cert-unit-')));
const [web, wildcard, elsewhere, platformWild, dash] = await Promise.all([
  makeCert(ca, ['web.example.test']),
  makeCert(ca, ['*.shop.test', 'shop.test']),
  makeCert(ca, ['elsewhere.test']),
  makeCert(ca, ['*.example.test']),
  makeCert(ca, ['admin.board.test']),
]);
const HOSTS: Record<string, string[]> = { web: ['web.example.test', 'www.shop.test', 'api.example.test'] };

function setup() {
  const state = State.open(path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'paas-unit-')), 'paas.db'));
  state.apps.create('web');
  const sent: TlsState[] = [];
  const proxy = { setTls: async (s: TlsState) => sent.push(s), setChallenge: async () => {}, removeChallenge: async () => {} };
  const hosts = (app: string) => HOSTS[app] ?? [];
  const sync = new TlsSync({ certs: state.certificates, hosts, proxy, log: silentLogger() });
  sync.serveAlso(() => ['admin.board.test']);
  return { state, sent, service: new CertService({ certs: state.certificates, hosts, sync, globalDomain: () => 'example.test' }) };
}

/** Date.now at `iso` for the rest of the test. */
function clockAt(iso: string) {
  mock.method(Date, 'now', () => Date.parse(iso));
}

/** A Let's Encrypt certificate row for `names`, as the renewals store it. */
function letsencrypt(state: State, names: string[], notAfter: string) {
  state.certificates.put({
    app: 'web',
    source: 'letsencrypt',
    certPem: 'LE-CERT',
    keyPem: 'LE-KEY',
    names,
    issuer: "Let's Encrypt",
    serial: '0A',
    notBefore: '2026-11-01T00:00:00.000Z',
    notAfter,
  });
}

describe('CertService.add', () => {
  test('stores the custom certificate, sends the proxy its hosts and reports what it serves', async (t) => {
    t.after(() => mock.restoreAll());
    const s = setup();
    const r = await s.service.add('web', web.cert + web.key);
    assert.deepEqual(r.warnings, []);
    assert.equal(r.cert.source, 'custom');
    assert.deepEqual(r.cert.names, ['web.example.test']);
    assert.deepEqual(r.cert.serves, ['web.example.test']);
    assert.equal(r.cert.issuer, 'paas test CA');
    const stored = s.state.certificates.get('web', 'custom')!;
    assert.equal(stored.keyPem.trim(), web.key.trim());
    assert.equal(stored.certPem.trim(), web.cert.trim());
    assert.equal(s.sent.length, 1);
    assert.deepEqual(s.sent[0]!.hosts, { 'web.example.test': { cert: 'web/custom', redirect: true, hsts: false } });
    assert.deepEqual(
      s.sent[0]!.certs.map((c) => c.id),
      ['web/custom'],
    );
  });

  test('a second add replaces the custom certificate (one per app)', async () => {
    const s = setup();
    await s.service.add('web', web.cert + web.key);
    const r = await s.service.add('web', wildcard.key + wildcard.cert);
    assert.deepEqual(r.cert.serves, ['www.shop.test']);
    assert.deepEqual(
      s.state.certificates.forApp('web').map((c) => c.names),
      [['*.shop.test', 'shop.test']],
    );
    assert.deepEqual(Object.keys(s.sent[1]!.hosts), ['www.shop.test']);
  });

  test('a certificate for none of the hosts is stored with a warning naming them', async () => {
    const s = setup();
    const r = await s.service.add('web', elsewhere.cert + elsewhere.key);
    assert.deepEqual(r.warnings, [
      "it covers none of web's hosts (web.example.test, www.shop.test, api.example.test); add the domain with domains:add",
    ]);
    assert.deepEqual(r.cert.serves, []);
    assert.deepEqual(s.sent[0]!.hosts, {});
  });

  test('an expired certificate and one not valid yet are stored with a warning', async (t) => {
    t.after(() => mock.restoreAll());
    const parsed = new (await import('node:crypto')).X509Certificate(web.cert);
    const notAfter = new Date(parsed.validTo).toISOString();
    const notBefore = new Date(parsed.validFrom).toISOString();
    clockAt(new Date(Date.parse(notAfter) + 1000).toISOString());
    const late = await setup().service.add('web', web.cert + web.key);
    assert.deepEqual(late.warnings, [`the certificate expired on ${notAfter}; clients will refuse it`]);
    assert.equal(late.cert.daysLeft, -1);
    mock.restoreAll();
    clockAt(new Date(Date.parse(notBefore) - 1000).toISOString());
    const early = await setup().service.add('web', web.cert + web.key);
    assert.deepEqual(early.warnings, [`the certificate is not valid before ${notBefore}`]);
    assert.equal(early.cert.daysLeft, 30);
  });

  test('a bundle without a key, or with the key of another certificate, is refused and nothing is stored or sent', async () => {
    const s = setup();
    await assert.rejects(s.service.add('web', web.cert), {
      code: 'PAAS_ERR_CERT_INVALID_PEM',
      message: 'expected one PEM private key on stdin, found 0 (an encrypted key is not supported)',
    });
    await assert.rejects(s.service.add('web', web.cert + elsewhere.key), {
      code: 'PAAS_ERR_CERT_KEY_MISMATCH',
      message: 'the private key does not match the certificate',
    });
    assert.deepEqual(s.state.certificates.forApp('web'), []);
    assert.equal(s.sent.length, 0);
  });
});

test("a developer key's certificate covering a host of paas itself (paas.<domain> by wildcard, the dashboard's) is refused; an admin's is stored", async () => {
  const s = setup();
  const dev = { keyName: 'dev', role: 'developer' as const, apps: ['web'], canCreate: false };
  const admin = { keyName: 'root', role: 'admin' as const, apps: [], canCreate: true };
  await assert.rejects(s.service.add('web', platformWild.cert + platformWild.key, dev), {
    code: 'PAAS_ERR_CERT_PLATFORM_HOST',
    message: 'the certificate covers paas.example.test, a host of paas itself: only an admin key may add it',
  });
  await assert.rejects(s.service.add('web', dash.cert + dash.key, dev), { message: /covers admin\.board\.test/ });
  assert.equal(s.state.certificates.all().length, 0);
  assert.equal(s.sent.length, 0);
  await s.service.add('web', web.cert + web.key, dev);
  await s.service.add('web', dash.cert + dash.key, admin);
  assert.deepEqual(
    s.state.certificates.all().map((c) => c.names),
    [['admin.board.test']],
  );
});

describe('CertService.report', () => {
  test('the custom certificate serves the hosts it covers, Let’s Encrypt the rest, and uncovered hosts are named', async (t) => {
    t.after(() => mock.restoreAll());
    const s = setup();
    letsencrypt(s.state, ['web.example.test', 'www.shop.test'], '2026-12-31T00:00:00.000Z');
    await s.service.add('web', wildcard.cert + wildcard.key);
    clockAt('2026-12-20T12:00:00.000Z');
    const r = s.service.report('web');
    assert.equal(r.app, 'web');
    assert.equal(r.redirect, true);
    assert.equal(r.hsts, false);
    assert.deepEqual(
      r.certificates.map((c) => [c.source, c.serves]),
      [
        ['custom', ['www.shop.test']],
        ['letsencrypt', ['web.example.test']],
      ],
    );
    assert.equal(r.certificates[1]!.daysLeft, 10);
    assert.deepEqual(r.uncovered, ['api.example.test']);
  });

  test('an app without certificates reports every host uncovered', () => {
    const r = setup().service.report('web');
    assert.deepEqual(r, {
      app: 'web',
      redirect: true,
      hsts: false,
      certificates: [],
      uncovered: ['web.example.test', 'www.shop.test', 'api.example.test'],
    });
  });
});

describe('CertService.remove', () => {
  test('removes the custom certificate and sends the proxy the state without it; Let’s Encrypt’s stays', async () => {
    const s = setup();
    letsencrypt(s.state, ['web.example.test'], '2026-12-31T00:00:00.000Z');
    await s.service.add('web', web.cert + web.key);
    await s.service.remove('web');
    assert.deepEqual(
      s.state.certificates.forApp('web').map((c) => c.source),
      ['letsencrypt'],
    );
    assert.deepEqual(s.sent.at(-1)!.hosts, { 'web.example.test': { cert: 'web/letsencrypt', redirect: true, hsts: false } });
  });

  test('an app without a custom certificate is refused with PAAS_ERR_CERT_NOT_FOUND and nothing is sent', async () => {
    const s = setup();
    letsencrypt(s.state, ['web.example.test'], '2026-12-31T00:00:00.000Z');
    await assert.rejects(s.service.remove('web'), { code: 'PAAS_ERR_CERT_NOT_FOUND', message: "app 'web' has no custom certificate" });
    assert.equal(s.state.certificates.forApp('web').length, 1);
    assert.equal(s.sent.length, 0);
  });
});

describe('CertService.set and sync', () => {
  test('stores redirect/HSTS and sends them with every host the app serves over TLS', async () => {
    const s = setup();
    await s.service.add('web', web.cert + web.key);
    assert.deepEqual(await s.service.set('web', ['redirect=off', 'hsts=on']), { redirect: false, hsts: true });
    assert.deepEqual(s.state.certificates.options('web'), { redirect: false, hsts: true });
    assert.deepEqual(s.sent.at(-1)!.hosts, { 'web.example.test': { cert: 'web/custom', redirect: false, hsts: true } });
    assert.deepEqual(await s.service.set('web', ['hsts=off']), { redirect: false, hsts: false });
  });

  test('no pair, or one bad pair among good ones, is refused and nothing is changed or sent', async () => {
    const s = setup();
    await assert.rejects(s.service.set('web', []), {
      code: 'PAAS_ERR_CERT_INVALID_OPTION',
      message: 'give at least one of redirect=on|off, hsts=on|off',
    });
    for (const bad of ['hsts=yes', 'HSTS=on', 'redirect=on=off', 'hsts']) {
      await assert.rejects(s.service.set('web', ['redirect=off', bad]), {
        code: 'PAAS_ERR_CERT_INVALID_OPTION',
        message: `'${bad}' is not one of redirect=on|off, hsts=on|off; nothing was changed`,
      });
    }
    assert.deepEqual(s.state.certificates.options('web'), { redirect: true, hsts: false });
    assert.equal(s.sent.length, 0);
  });

  test('sync sends the proxy the stored TLS state again', async () => {
    const s = setup();
    await s.service.add('web', web.cert + web.key);
    await s.service.sync();
    assert.equal(s.sent.length, 2);
    assert.deepEqual(s.sent[1], s.sent[0]);
  });
});
