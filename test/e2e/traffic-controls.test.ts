import assert from 'node:assert/strict';
import http from 'node:http';
import { after, before, test } from 'node:test';
import { viaProxy } from '../helpers/app-repo.js';
import { serverWithApp } from '../helpers/deployed-app.js';
import type { PaasServer } from '../helpers/paas-server.js';
import { waitFor } from '../helpers/wait.js';

// ps:maintenance, ps:pause / ps:resume, proxy:set max-body-size and proxy:report over real
// OpenSSH against a real `paas server`, its proxy and a busybox app in Docker; both controls
// survive a control-plane restart (and maintenance a restart of the proxy too).

const APP = 'trafficapp';
const HOST = `${APP}.paas.test`;
let paas: PaasServer;

before(async () => {
  ({ paas } = await serverWithApp(APP, 'traffic-marker'));
});
after(async () => {
  await paas?.destroy();
});

async function ok(command: string): Promise<string> {
  const r = await paas.ssh(command);
  assert.equal(r.exitCode, 0, `${command}: ${r.stderr}`);
  return r.stdout;
}

/** One-line refusal, exit non-zero. */
async function refused(command: string, re: RegExp): Promise<void> {
  const r = await paas.ssh(command);
  assert.notEqual(r.exitCode, 0, `${command} succeeded`);
  assert.match(r.stderr, re);
  assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
}

/** Restarts the control plane: SIGUSR2 leaves the proxy serving, SIGTERM stops it too. */
async function restartControlPlane(signal: 'SIGUSR2' | 'SIGTERM'): Promise<void> {
  await paas.stop(signal);
  await paas.spawnServer();
}

function post(bytes: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host: '127.0.0.1', port: paas.ports.http, method: 'POST', path: '/cgi-bin/env', headers: { host: HOST }, agent: false },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      },
    );
    req.on('error', reject);
    // chunked: the limit must count the body as it arrives (busybox's CGI gets it with a Content-Length)
    req.write(Buffer.alloc(bytes, 0x61));
    req.end();
  });
}

test('ps:maintenance on answers 503 with the message while the container keeps running; it survives restarts; off serves again', async () => {
  assert.equal((await viaProxy(paas, HOST)).status, 200);
  const out = await ok(`ps:maintenance ${APP} on --message "Upgrading the database, back at 14:00"`);
  assert.match(out, /in maintenance/);
  const page = await viaProxy(paas, HOST);
  assert.equal(page.status, 503);
  assert.match(page.body, /Upgrading the database, back at 14:00/);
  assert.match(await ok(`ps:report ${APP}`), /running/);
  await restartControlPlane('SIGTERM');
  const after = await viaProxy(paas, HOST);
  assert.equal(after.status, 503, 'maintenance lost with the restart of control plane and proxy');
  assert.match(after.body, /back at 14:00/);
  assert.match(await ok(`proxy:report ${APP}`), /Maintenance: +on: Upgrading the database/);
  await ok(`ps:maintenance ${APP} off`);
  assert.equal((await viaProxy(paas, HOST)).status, 200);
});

test('ps:pause holds requests across a control-plane restart until ps:resume; --max ends a pause by itself', async () => {
  await ok(`ps:pause ${APP} --max 60s`);
  let answered = 0;
  const held = viaProxy(paas, HOST, '/', 60_000).then((r) => {
    answered = Date.now();
    return r;
  });
  await new Promise((r) => setTimeout(r, 1000));
  assert.equal(answered, 0, 'a request went through while paused');
  await restartControlPlane('SIGUSR2');
  assert.match(await ok(`proxy:report ${APP}`), /Paused: +until /);
  assert.equal(answered, 0, 'the held request was answered by the restart');
  const resumedAt = Date.now();
  assert.match(await ok(`ps:resume ${APP}`), /resumed/);
  const r = await held;
  assert.equal(r.status, 200, 'the held request was dropped');
  assert.ok(answered >= resumedAt, 'answered before ps:resume');
  // a short pause ends by itself
  await ok(`ps:pause ${APP} --max 2s`);
  const t0 = Date.now();
  const late = await viaProxy(paas, HOST, '/', 30_000);
  assert.equal(late.status, 200);
  assert.ok(Date.now() - t0 >= 1000, 'not held by the pause');
});

test('proxy:set max-body-size applies at once: a bigger chunked body gets 413, a smaller one passes; proxy:report shows it', async () => {
  assert.match(await ok(`proxy:set ${APP} max-body-size 64k`), /max-body-size=64k/);
  assert.equal(await post(200 * 1024), 413);
  assert.equal(await post(16 * 1024), 200);
  const report = await ok(`proxy:report ${APP}`);
  assert.match(report, /Max body size: +64k/);
  assert.match(report, /healthy/);
  assert.match(report, /version 0\./);
  const json = JSON.parse(await ok(`proxy:report ${APP} --json`)) as { routed: boolean; service: { targets: string[] } };
  assert.equal(json.routed, true);
  assert.equal(json.service.targets.length, 1);
  await ok(`proxy:set ${APP} max-body-size 100m`);
  assert.equal(await post(200 * 1024), 200);
});

test('bad input to the traffic commands: one line, non-zero exit, nothing changed', async () => {
  await refused(`ps:maintenance ${APP} maybe`, /takes on or off/);
  await refused(`ps:maintenance ${APP} off --message hi`, /--message goes with ps:maintenance on/);
  await refused(`ps:pause ${APP} --max 2d`, /--max must be a duration from 1s to 1h/);
  await refused(`ps:pause ${APP} --max 0s`, /--max must be a duration/);
  await refused(`proxy:set ${APP} max-body-size lots`, /max-body-size must be a size/);
  await refused(`proxy:set ${APP} max-body-size 500g`, /max-body-size must be a size/);
  await refused(`proxy:set ${APP} colour blue`, /unknown proxy setting 'colour'/);
  await refused('proxy:report nosuchapp', /nosuchapp/);
  const report = await ok(`proxy:report ${APP}`);
  assert.match(report, /Maintenance: +off/);
  assert.match(report, /Paused: +no/);
  assert.match(report, /Max body size: +100m/);
  await waitFor('the app to serve', async () => (await viaProxy(paas, HOST)).status === 200, 10_000);
});
