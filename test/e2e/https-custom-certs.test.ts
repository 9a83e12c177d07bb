// certs:add/remove/report/set over real OpenSSH against a real `paas server` and Docker: a
// wildcard certificate made with openssl serves two custom domains of an app (SNI picks it over
// the default), plain HTTP redirects with 308, hsts and redirect can be switched, bad bundles are
// refused with one line and change nothing, an expired one is accepted with a warning.
import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { execa } from 'execa';
import { viaProxy } from '../helpers/app-repo.js';
import { serverWithApp } from '../helpers/deployed-app.js';
import { httpsGet, serialOf, servedCert } from '../helpers/https-client.js';
import type { PaasServer } from '../helpers/paas-server.js';
import { makeCa, makeCert, type TestCa } from '../helpers/test-certs.js';

const APP = 'tlsc';
let paas: PaasServer;
let ca: TestCa;

before(async () => {
  ({ paas } = await serverWithApp(APP, 'custom-certs'));
  ca = await makeCa(path.join(paas.dataDir, 'ca'));
});
after(async () => {
  await paas?.destroy();
});

function curl(host: string, urlPath = '/') {
  const port = paas.ports.https;
  return execa('curl', ['-sS', '--cacert', ca.cert, '--resolve', `${host}:${port}:127.0.0.1`, `https://${host}:${port}${urlPath}`], {
    reject: false,
  });
}

async function report(): Promise<{
  redirect: boolean;
  hsts: boolean;
  certificates: { source: string; names: string[]; issuer: string; serial: string; daysLeft: number; serves: string[] }[];
  uncovered: string[];
}> {
  const r = await paas.ssh(`certs:report ${APP} --json`);
  assert.equal(r.exitCode, 0, r.stderr);
  return JSON.parse(r.stdout);
}

test('a wildcard certificate serves two hosts over HTTPS, redirects plain HTTP, and can be removed; bad bundles change nothing', async () => {
  for (const d of ['a.tlsc.example', 'b.tlsc.example']) assert.equal((await paas.ssh(`domains:add ${APP} ${d}`)).exitCode, 0);
  const wild = await makeCert(ca, ['*.tlsc.example']);
  const before = await servedCert(paas.ports.https, 'a.tlsc.example');
  assert.equal(before.cn, 'paas-default', 'without a certificate the default one answers');

  const add = await paas.ssh(`certs:add ${APP}`, { input: wild.bundle });
  assert.equal(add.exitCode, 0, add.stderr);
  assert.match(
    add.stdout,
    /^Added a custom certificate to tlsc for \*\.tlsc\.example \(expires .+\); serving a\.tlsc\.example, b\.tlsc\.example\n$/,
  );

  for (const host of ['a.tlsc.example', 'b.tlsc.example']) {
    const c = await curl(host);
    assert.equal(c.exitCode, 0, `${host}: ${c.stderr}`);
    assert.equal(c.stdout, 'custom-certs'); // execa strips the final newline
    assert.equal((await servedCert(paas.ports.https, host)).serial, serialOf(wild.cert), `SNI ${host} gets the wildcard`);
  }
  assert.equal(
    (await servedCert(paas.ports.https, 'tlsc.paas.test')).cn,
    'paas-default',
    'a host the certificate does not cover keeps the default',
  );

  // plain HTTP: 308 to https with path and query; the uncovered global host is not redirected
  const r = await viaProxy(paas, 'a.tlsc.example', '/x/index.html?q=1');
  assert.equal(r.status, 308);
  assert.equal(r.headers.location, `https://a.tlsc.example:${paas.ports.https}/x/index.html?q=1`);
  assert.equal((await viaProxy(paas, 'tlsc.paas.test')).status, 200);

  const rep = await report();
  assert.equal(rep.redirect, true);
  assert.equal(rep.hsts, false);
  assert.deepEqual(rep.uncovered, ['tlsc.paas.test']);
  assert.equal(rep.certificates.length, 1);
  const c0 = rep.certificates[0];
  assert.equal(c0.source, 'custom');
  assert.deepEqual(c0.names, ['*.tlsc.example']);
  assert.equal(c0.issuer, 'paas test CA');
  assert.equal(c0.serial, serialOf(wild.cert));
  assert.ok(c0.daysLeft >= 28 && c0.daysLeft <= 30, String(c0.daysLeft));
  assert.deepEqual(c0.serves, ['a.tlsc.example', 'b.tlsc.example']);
  const text = await paas.ssh(`certs:report ${APP}`);
  assert.match(text.stdout, /custom\s+\*\.tlsc\.example\s+paas test CA/);

  // hsts on, redirect off
  assert.equal((await paas.ssh(`certs:set ${APP} hsts=on`)).exitCode, 0);
  const h = await httpsGet(paas.ports.https, 'a.tlsc.example', { ca: ca.pem });
  assert.equal(h.status, 200);
  assert.equal(h.headers['strict-transport-security'], 'max-age=31536000');
  assert.equal((await paas.ssh(`certs:set ${APP} redirect=off`)).exitCode, 0);
  assert.equal((await viaProxy(paas, 'a.tlsc.example')).status, 200, 'redirect=off serves plain HTTP');
  assert.equal((await paas.ssh(`certs:set ${APP} redirect=on`)).exitCode, 0);
  assert.equal((await viaProxy(paas, 'a.tlsc.example')).status, 308);

  // bad input: one line, non-zero, nothing changed
  const other = await makeCert(ca, ['*.tlsc.example']);
  const bad: [string, string, RegExp][] = [
    [
      'malformed PEM',
      '-----BEGIN CERTIFICATE-----\nnot base64 at all\n-----END CERTIFICATE-----\n' + wild.key,
      /not valid PEM|no PEM certificate/,
    ],
    ['no key', wild.cert, /expected one PEM private key/],
    ['garbage', 'hello\n', /no PEM certificate/],
    ['key of another certificate', wild.cert + other.key, /the private key does not match the certificate/],
  ];
  for (const [what, input, re] of bad) {
    const x = await paas.ssh(`certs:add ${APP}`, { input });
    assert.notEqual(x.exitCode, 0, what);
    assert.equal(x.stderr.trim().split('\n').length, 1, `${what}: ${x.stderr}`);
    assert.match(x.stderr, re, what);
  }
  for (const bad of ['redirect=maybe', 'color=on', 'hsts']) {
    const x = await paas.ssh(`certs:set ${APP} ${bad}`);
    assert.equal(x.exitCode, 2, bad);
    assert.equal(x.stderr.trim().split('\n').length, 1, x.stderr);
  }
  const same = await report();
  assert.equal(same.certificates[0].serial, serialOf(wild.cert));
  assert.equal(same.hsts, true);
  assert.equal((await servedCert(paas.ports.https, 'b.tlsc.example')).serial, serialOf(wild.cert));

  // an expired certificate is accepted, with a warning
  const expired = await makeCert(ca, ['a.tlsc.example', 'b.tlsc.example'], { expired: true });
  const e = await paas.ssh(`certs:add ${APP}`, { input: expired.bundle });
  assert.equal(e.exitCode, 0, e.stderr);
  assert.match(e.stderr, /^warning: the certificate expired on .+; clients will refuse it\n$/);
  assert.equal((await servedCert(paas.ports.https, 'a.tlsc.example')).serial, serialOf(expired.cert));

  // remove: the default certificate again, no redirect; removing twice is an error
  const rm = await paas.ssh(`certs:remove ${APP}`);
  assert.equal(rm.exitCode, 0, rm.stderr);
  assert.equal((await servedCert(paas.ports.https, 'a.tlsc.example')).cn, 'paas-default');
  assert.equal((await viaProxy(paas, 'a.tlsc.example')).status, 200);
  const again = await paas.ssh(`certs:remove ${APP}`);
  assert.equal(again.exitCode, 1);
  assert.match(again.stderr, /^error: app 'tlsc' has no custom certificate\n$/);
});
