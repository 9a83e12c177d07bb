// Issue 21, hole 7, as an attacker with a developer key would try it, against Debian's Pebble over
// real OpenSSH: repeated `letsencrypt:renew --force` would spend the registered domain's weekly
// Let's Encrypt limits for every app. Forced orders are spaced (one an hour), an app gets at most
// 5 certificates a week (counted in SQLite, so a restart does not reset it), and after a failed
// validation the next order waits for the backoff, even across letsencrypt:disable/enable. Each
// refusal is one line with the time the next attempt is allowed, and changes nothing.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { after, before, test } from 'node:test';
import { requireDocker } from '../helpers/docker.js';
import { servedCert } from '../helpers/https-client.js';
import { makeKey, PaasServer, type SshResult } from '../helpers/paas-server.js';
import { hasPebble, Pebble } from '../helpers/pebble.js';

let paas: PaasServer;
let pebble: Pebble;
let dev: { priv: string; pub: string };

before(async () => {
  assert.ok(hasPebble(), 'Debian package pebble is needed (test/ensure-test-packages.sh installs it)');
  await requireDocker();
  pebble = await new Pebble(fs.mkdtempSync('/tmp/paas-pebble-')).prepare();
  paas = await new PaasServer({
    PAAS_ACME_DIRECTORY: pebble.directoryUrl,
    PAAS_ACME_CA: pebble.caFile,
    PAAS_ACME_EMAIL: 'ops@le.example',
    PAAS_ACME_TIMEOUT_MS: '5000',
    PAAS_ACME_POLL_MS: '200',
  }).start();
  await pebble.start(paas.ports.http);
  for (const app of ['le', 'le2']) assert.equal((await paas.ssh(`apps:create ${app}`)).exitCode, 0);
  dev = await makeKey(paas.keyDir, 'dev');
  const add = await paas.ssh('ssh-keys:add dev --role developer --apps le,le2', { input: fs.readFileSync(dev.pub, 'utf8') });
  assert.equal(add.exitCode, 0, add.stderr);
});
after(async () => {
  await pebble?.stop();
  await paas?.destroy();
  if (pebble && !process.env.PAAS_KEEP_TEST_DIRS) fs.rmSync(pebble.dir, { recursive: true, force: true });
});

const asDev = (cmd: string) => paas.ssh(cmd, { key: dev.priv });

function issued(r: SshResult, what: string): void {
  assert.equal(r.exitCode, 0, `${what}: ${r.stdout}${r.stderr}\n${pebble.log()}`);
  assert.match(r.stdout, /Finalize: certificate issued/, what);
}

/** Refused with one line naming when the next attempt is allowed; nothing was ordered. Returns that time. */
function refused(r: SshResult, re: RegExp, what: string): number {
  assert.notEqual(r.exitCode, 0, `${what} must be refused: ${r.stdout}${r.stderr}`);
  const lines = r.stderr.trim().split('\n');
  assert.equal(lines.length, 1, `${what}: ${r.stderr}`);
  assert.match(lines[0], re, what);
  assert.doesNotMatch(r.stdout, /Order for/, `${what}: nothing is ordered`);
  const m = /allowed from (\S+)$/.exec(lines[0]);
  assert.ok(m, `${what}: the line says when: ${lines[0]}`);
  return Date.parse(m[1]);
}

async function listed(app: string) {
  const r = await paas.ssh('letsencrypt:list --json');
  assert.equal(r.exitCode, 0, r.stderr);
  return (JSON.parse(r.stdout) as { app: string; names: string[]; failures: number; nextRenewal: string }[]).find((e) => e.app === app);
}

async function restart(env: Record<string, string> = {}): Promise<void> {
  await paas.stop();
  Object.assign(paas.env, env);
  await paas.spawnServer();
  await pebble.stop();
  await pebble.start(paas.ports.http);
}

test('a developer key cannot spend the Let’s Encrypt limits: forced orders spaced, 5 a week per app across restarts, backoff after a failure', async () => {
  // one certificate, and one forced re-order: fine
  issued(await asDev('letsencrypt:enable le'), 'enable');
  issued(await asDev('letsencrypt:renew le --force'), 'the first forced renewal');
  const serial = (await servedCert(paas.ports.https, 'le.paas.test')).serial;

  // a second forced order right after: refused until an hour after the first
  const t0 = Date.now();
  const spaced = refused(
    await asDev('letsencrypt:renew le --force'),
    /^error: le had a forced order at \S+ and forced orders are at most one per hour; the next is allowed from \S+$/,
    'a second forced renewal within the hour',
  );
  assert.ok(spaced > t0 + 55 * 60_000 && spaced <= t0 + 60 * 60_000 + 5000, `an hour after the first: ${new Date(spaced).toISOString()}`);
  assert.equal((await servedCert(paas.ports.https, 'le.paas.test')).serial, serial, 'the certificate serving is unchanged');

  // spacing off (a test knob): the budget is what stops the next ones, and it outlived the restart
  await restart({ PAAS_ACME_FORCE_SPACING_MS: '0' });
  for (let i = 3; i <= 5; i++) issued(await asDev('letsencrypt:renew le --force'), `forced order ${i}`);
  const serial5 = (await servedCert(paas.ports.https, 'le.paas.test')).serial;
  for (let i = 0; i < 2; i++) {
    const at = refused(
      await asDev('letsencrypt:renew le --force'),
      /^error: le got 5 certificates in the last 7 days, the most one app may order; the next order is allowed from \S+$/,
      'a sixth certificate in a week',
    );
    assert.ok(at > Date.now() + 6.9 * 86_400_000, `a week after the first: ${new Date(at).toISOString()}`);
  }
  // a domain change orders too: held to the same budget (the domain is added; the certificate waits)
  refused(await asDev('domains:add le www.le.example'), /^error: le got 5 certificates in the last 7 days/, 'an order by domains:add');
  assert.equal((await servedCert(paas.ports.https, 'le.paas.test')).serial, serial5, 'the certificate serving is unchanged');
  assert.equal((await asDev('domains:remove le www.le.example')).exitCode, 0, 'back to names that fit: reused');

  await restart();
  refused(await asDev('letsencrypt:renew le --force'), /got 5 certificates in the last 7 days/, 'after a second restart');

  // an admin key is not held to the budget
  issued(await paas.ssh('letsencrypt:renew le --force'), 'an admin forced renewal');

  // a failed validation, then an immediate retry: refused until the backoff ends
  issued(await asDev('letsencrypt:enable le2'), 'enable le2');
  await pebble.mapHost('bad.le.example', '127.0.0.2');
  const bad = await asDev('domains:add le2 bad.le.example');
  assert.equal(bad.exitCode, 1, bad.stdout);
  assert.match(bad.stderr, /^error: the ACME server refused: bad\.le\.example/);
  const failedAt = Date.now();
  const backoff = /^error: the last certificate order for le2 failed \(letsencrypt:list shows why\); the next attempt is allowed from \S+$/;
  const until = refused(await asDev('letsencrypt:renew le2 --force'), backoff, 'a forced retry right after the failure');
  assert.ok(until > failedAt + 4 * 60_000, `the scheduler's backoff (5 min first): ${new Date(until).toISOString()}`);
  refused(await asDev('letsencrypt:renew le2'), backoff, 'a plain retry right after the failure');
  assert.equal((await listed('le2'))?.failures, 1, 'a refusal is not another failure');
  // disable and enable again does not end the backoff; the refused enable leaves it disabled
  assert.equal((await asDev('letsencrypt:disable le2')).exitCode, 0);
  assert.equal(refused(await asDev('letsencrypt:enable le2'), backoff, 'enable again right after the failure'), until);
  assert.equal(await listed('le2'), undefined, 'le2 stays disabled');
});
