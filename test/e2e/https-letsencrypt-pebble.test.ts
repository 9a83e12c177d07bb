// letsencrypt:* end to end against Debian's Pebble (pebble-challtestsrv resolving every name to
// 127.0.0.1, Pebble's http-01 port = paas's HTTP port), over real OpenSSH, Docker and curl:
// issue for an app with two domains, HTTPS verified against Pebble's root, HTTP redirects, a
// valid certificate is reused, renew --force swaps it under HTTPS load with zero failures,
// domains:add/remove re-issue, a name Pebble cannot validate and a directory that does not answer
// fail with one line and change nothing, the certificate outlives a restart, disable.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import https from 'node:https';
import net from 'node:net';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { execa } from 'execa';
import { viaProxy } from '../helpers/app-repo.js';
import { serverWithApp } from '../helpers/deployed-app.js';
import { httpsGet, loadLoop, servedCert } from '../helpers/https-client.js';
import type { PaasServer } from '../helpers/paas-server.js';
import { hasPebble, Pebble } from '../helpers/pebble.js';
import { waitFor } from '../helpers/wait.js';

const APP = 'le';
const WWW = 'www.le.example';
let paas: PaasServer;
let pebble: Pebble;
let root: string;
let rootFile: string;
let silent: net.Server;

before(async () => {
  assert.ok(hasPebble(), 'Debian package pebble is needed (test/ensure-test-packages.sh installs it)');
  pebble = await new Pebble(fs.mkdtempSync('/tmp/paas-pebble-')).prepare();
  ({ paas } = await serverWithApp(APP, 'lets-encrypt', {
    PAAS_ACME_DIRECTORY: pebble.directoryUrl,
    PAAS_ACME_CA: pebble.caFile,
    PAAS_ACME_TIMEOUT_MS: '3000',
    PAAS_ACME_POLL_MS: '200',
    PAAS_ACME_RETRY_BASE_MS: '600000',
  }));
  await pebble.start(paas.ports.http);
  // a "directory" that accepts connections and never answers
  silent = net.createServer(() => {});
  await new Promise<void>((r) => silent.listen(0, '127.0.0.1', () => r()));
});
after(async () => {
  silent?.close();
  await pebble?.stop();
  await paas?.destroy();
  if (pebble && !process.env.PAAS_KEEP_TEST_DIRS) fs.rmSync(pebble.dir, { recursive: true, force: true });
});

function curl(host: string, port = paas.ports.https) {
  return execa('curl', ['-sS', '--cacert', rootFile, '--resolve', `${host}:${port}:127.0.0.1`, `https://${host}:${port}/`], {
    reject: false,
  });
}

async function list(): Promise<
  { app: string; names: string[]; notAfter: string; nextRenewal: string; failures: number; lastError: string | null }[]
> {
  const r = await paas.ssh('letsencrypt:list --json');
  assert.equal(r.exitCode, 0, r.stderr);
  return JSON.parse(r.stdout);
}

function oneLine(r: { exitCode: number; stderr: string }, re: RegExp, what: string): void {
  assert.notEqual(r.exitCode, 0, what);
  const lines = r.stderr.trim().split('\n');
  assert.equal(lines.length, 1, `${what}: ${r.stderr}`);
  assert.match(lines[0], re, what);
}

test('issue for two domains, redirect, reuse, renew --force under load, re-issue on domains:add/remove, bad input, restart, disable', async () => {
  assert.equal((await paas.ssh(`domains:add ${APP} ${WWW}`)).exitCode, 0);

  // no email yet: one line, nothing enabled
  oneLine(await paas.ssh(`letsencrypt:enable ${APP}`), /no ACME account email/, 'enable without email');
  assert.deepEqual(await list(), []);
  oneLine(await paas.ssh('letsencrypt:set --global email not-an-email'), /is not an email address/, 'bad email');
  oneLine(await paas.ssh('letsencrypt:set email ops@le.example'), /add --global/, 'no --global');
  oneLine(await paas.ssh('letsencrypt:set --global colour blue'), /unknown setting 'colour'/, 'unknown key');
  assert.equal((await paas.ssh('letsencrypt:set --global email ops@le.example')).exitCode, 0);

  const en = await paas.ssh(`letsencrypt:enable ${APP}`);
  assert.equal(en.exitCode, 0, `${en.stdout}${en.stderr}\n${pebble.log()}`);
  assert.match(en.stdout, /-----> Account ops@le\.example at https:\/\/127\.0\.0\.1:\d+\/dir: ready\n/);
  assert.match(en.stdout, /-----> Order for le\.paas\.test, www\.le\.example\n/);
  assert.match(en.stdout, /le\.paas\.test: (http-01 challenge valid|already valid)\n/);
  assert.match(en.stdout, /www\.le\.example: (http-01 challenge valid|already valid)\n/);
  assert.match(en.stdout, /-----> Finalize: certificate issued\n/);
  assert.match(en.stdout, /Let's Encrypt is enabled for le\n$/);

  root = await pebble.management('/roots/0');
  rootFile = path.join(pebble.dir, 'issuer-root.pem');
  fs.writeFileSync(rootFile, root);
  for (const host of ['le.paas.test', WWW]) {
    const c = await curl(host);
    assert.equal(c.exitCode, 0, `${host}: ${c.stderr}`);
    assert.equal(c.stdout, 'lets-encrypt');
  }
  const r = await viaProxy(paas, WWW, '/a?b=c');
  assert.equal(r.status, 308);
  assert.equal(r.headers.location, `https://${WWW}:${paas.ports.https}/a?b=c`);
  const other = await viaProxy(paas, WWW, '/.well-known/acme-challenge/unknown-token');
  assert.equal(other.status, 404, 'a token that is not pending goes to the app (busybox: 404), not redirected');
  for (const f of fs.readdirSync(path.join(paas.dataDir, 'acme'))) {
    assert.equal(fs.statSync(path.join(paas.dataDir, 'acme', f)).mode & 0o777, 0o600, `account key ${f} is mode 600`);
  }

  const [entry] = await list();
  assert.equal(entry.app, APP);
  assert.deepEqual(entry.names.sort(), ['le.paas.test', WWW]);
  assert.ok(Date.parse(entry.notAfter) > Date.now());
  assert.ok(Date.parse(entry.nextRenewal) > Date.now() && Date.parse(entry.nextRenewal) < Date.parse(entry.notAfter));
  assert.equal(entry.failures, 0);
  const rep = JSON.parse((await paas.ssh(`certs:report ${APP} --json`)).stdout);
  assert.equal(rep.certificates[0].source, 'letsencrypt');
  const serial1 = rep.certificates[0].serial;
  assert.equal((await servedCert(paas.ports.https, WWW)).serial, serial1);

  // a valid certificate for the same names is reused, never re-ordered
  const again = await paas.ssh(`letsencrypt:enable ${APP}`);
  assert.equal(again.exitCode, 0, again.stderr);
  assert.match(again.stdout, /reused/);
  assert.doesNotMatch(again.stdout, /Order for/);
  const renew = await paas.ssh(`letsencrypt:renew ${APP}`);
  assert.match(renew.stdout, /reused/);
  assert.equal((await servedCert(paas.ports.https, WWW)).serial, serial1);

  // renew --force while HTTPS load runs (fresh connections and keep-alive): zero failures, new serial served
  const agent = new https.Agent({ keepAlive: true, maxSockets: 3 });
  let forced = { exitCode: 1, stdout: '', stderr: '' };
  const load = await loadLoop(
    6,
    (i) => httpsGet(paas.ports.https, i % 2 ? WWW : 'le.paas.test', { ca: root, agent: i < 3 ? agent : false }),
    async () => {
      await new Promise((res) => setTimeout(res, 500));
      forced = await paas.ssh(`letsencrypt:renew ${APP} --force`);
      await new Promise((res) => setTimeout(res, 500));
    },
  );
  agent.destroy();
  assert.equal(forced.exitCode, 0, `${forced.stdout}${forced.stderr}`);
  assert.match(forced.stdout, /Finalize: certificate issued/);
  assert.equal(load.failures, 0, `${load.failures} failed of ${load.ok + load.failures}: ${load.reasons.join('; ')}`);
  assert.ok(load.ok > 20, `only ${load.ok} requests ran`);
  const serial2 = (await servedCert(paas.ports.https, WWW)).serial;
  assert.notEqual(serial2, serial1, 'a new certificate is served');
  assert.ok(load.serials.has(serial2), 'the load loop saw the new certificate');

  // domains:add re-issues for the new set; the old certificate served until then
  const add = await paas.ssh(`domains:add ${APP} api.le.example`);
  assert.equal(add.exitCode, 0, `${add.stdout}${add.stderr}`);
  assert.match(add.stdout, /Order for le\.paas\.test, (api\.le\.example, www\.le\.example|www\.le\.example, api\.le\.example)\n/);
  assert.equal((await curl('api.le.example')).stdout, 'lets-encrypt');
  assert.deepEqual((await list())[0].names.sort(), ['api.le.example', 'le.paas.test', WWW]);
  const rm = await paas.ssh(`domains:remove ${APP} api.le.example`);
  assert.equal(rm.exitCode, 0, `${rm.stdout}${rm.stderr}`);
  assert.deepEqual((await list())[0].names.sort(), ['le.paas.test', WWW]);
  const serial3 = (await servedCert(paas.ports.https, WWW)).serial;

  // a name Pebble cannot validate (it resolves to an address where nothing listens): its reason, per name; the working certificate stays
  await pebble.mapHost('bad.le.example', '127.0.0.2');
  const bad = await paas.ssh(`domains:add ${APP} bad.le.example`);
  assert.equal(bad.exitCode, 1, bad.stdout);
  assert.match(bad.stdout, /bad\.le\.example: .*(refused|connect)/i);
  oneLine(bad, /^error: the ACME server refused: bad\.le\.example: .*(refused|connect)/i, 'unvalidatable name');
  assert.equal((await servedCert(paas.ports.https, WWW)).serial, serial3, 'the working certificate keeps serving');
  const failed = (await list())[0];
  assert.equal(failed.failures, 1);
  assert.match(failed.lastError ?? '', /bad\.le\.example/);
  assert.ok(Date.parse(failed.nextRenewal) > Date.now() + 5 * 60_000, 'backoff before the next try');
  const back = await paas.ssh(`domains:remove ${APP} bad.le.example`);
  assert.equal(back.exitCode, 0, back.stderr);
  assert.match(back.stdout, /reused/, 'the certificate fits the names again');
  assert.equal((await list())[0].failures, 0, 'and the backoff is over');

  // an ACME directory that does not answer: the timeout is stated, nothing changes
  assert.equal((await paas.ssh('apps:create le2')).exitCode, 0);
  const port = (silent.address() as net.AddressInfo).port;
  assert.equal((await paas.ssh(`letsencrypt:set --global server http://127.0.0.1:${port}/dir`)).exitCode, 0);
  const t0 = Date.now();
  oneLine(await paas.ssh('letsencrypt:enable le2'), /did not answer within 3 s/, 'silent directory');
  assert.ok(Date.now() - t0 < 30_000, 'no hang');
  assert.deepEqual(
    (await list()).map((e) => e.app),
    [APP],
    'le2 was not enabled',
  );
  assert.equal((await paas.ssh(`letsencrypt:set --global server ${pebble.directoryUrl}`)).exitCode, 0);

  // an app with no release gets a certificate too: the proxy answers the challenge before routing
  const le2 = await paas.ssh('letsencrypt:enable le2');
  assert.equal(le2.exitCode, 0, `${le2.stdout}${le2.stderr}`);
  assert.equal((await paas.ssh('letsencrypt:disable le2')).exitCode, 0);
  oneLine(await paas.ssh('letsencrypt:disable le2'), /not enabled/, 'disable twice');
  oneLine(await paas.ssh('letsencrypt:renew le2'), /not enabled/, 'renew without enable');

  // restart the whole server (proxy included): the certificate serves again, loaded before listening
  // (the restarted server checks for due renewals every 0.5 s, for the scheduler step below)
  const before = (await servedCert(paas.ports.https, WWW)).serial;
  await paas.stop();
  Object.assign(paas.env, { PAAS_ACME_RENEW_INTERVAL_MS: '500', PAAS_ACME_RENEW_FIRST_MS: '500' });
  await paas.spawnServer();
  assert.equal((await servedCert(paas.ports.https, WWW)).serial, before);
  assert.equal((await curl(WWW)).stdout, 'lets-encrypt');

  // renewals need no cron and no command: after domains:set-global the app's names changed, and the
  // control plane's scheduler re-issues by itself (Pebble restarted for the server's new HTTP port)
  await pebble.stop();
  await pebble.start(paas.ports.http);
  assert.equal((await paas.ssh('domains:set-global sched.example')).exitCode, 0);
  const renewed = await waitFor(
    'the scheduler to re-issue for le.sched.example',
    async () => {
      const [e] = await list();
      return e.names.includes('le.sched.example') ? e : null;
    },
    60_000,
    250,
  );
  assert.deepEqual(renewed.names.sort(), ['le.sched.example', WWW]);
  assert.equal(renewed.failures, 0);
  fs.writeFileSync(rootFile, await pebble.management('/roots/0'));
  const viaNewName = await curl('le.sched.example');
  assert.equal(viaNewName.stdout, 'lets-encrypt', viaNewName.stderr);

  // disable: the certificate goes, the default one answers, no redirect
  assert.equal((await paas.ssh(`letsencrypt:disable ${APP}`)).exitCode, 0);
  await waitFor('default certificate', async () => (await servedCert(paas.ports.https, WWW)).cn === 'paas-default', 5000);
  assert.equal((await viaProxy(paas, WWW)).status, 200);
  assert.deepEqual(await list(), []);
});
