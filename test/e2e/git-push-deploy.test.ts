import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { execa } from 'execa';
import { busyboxApp, commitFiles, healthAppJson, push, remoteSha, viaProxy } from '../helpers/app-repo.js';
import { ensureBusyboxImage } from '../helpers/base-images.js';
import { dockerClient, requireDocker, runFilter } from '../helpers/docker.js';
import { PaasServer } from '../helpers/paas-server.js';
import { waitFor } from '../helpers/wait.js';

let paas: PaasServer;
let work: string;
before(async () => {
  await requireDocker();
  await ensureBusyboxImage();
  paas = await new PaasServer().start();
  work = path.join(paas.dataDir, 'work');
});
after(async () => {
  await paas?.destroy();
});

// every test pushes its own app; containers are those of this server only (its run label)
const containersOf = async (app: string) =>
  (await dockerClient().listContainers({ all: true, filters: { label: [`paas.app=${app}`, runFilter(paas.labels)] } })).map((c) => ({
    name: c.Names[0].slice(1),
    release: c.Labels['paas.release'],
    state: c.State,
  }));

test('first push creates and deploys the app; a second push replaces it', async () => {
  const dir = path.join(work, 'web1');
  await commitFiles(dir, busyboxApp('version-one'));
  let r = await push(paas, dir, 'web1');
  assert.equal(r.exitCode, 0, r.output);
  assert.match(r.output, /remote: -----> Building paas\/web1:v1 \(dockerfile\)/);
  assert.match(r.output, /remote: -----> Release v1 live at http:\/\/web1\.paas\.test \(\d+\.\d s\)/);
  let res = await viaProxy(paas, 'web1.paas.test');
  assert.equal(res.status, 200);
  assert.equal(res.body, 'version-one\n');
  const env = await viaProxy(paas, 'web1.paas.test', '/cgi-bin/env');
  assert.match(env.body, /^PORT=5000$/m);
  const [c1] = await containersOf('web1');
  assert.equal(c1.release, '1');
  const inspect = await dockerClient().getContainer(c1.name).inspect();
  assert.deepEqual(Object.keys(inspect.NetworkSettings.Networks), ['paas-web1'], "joined the app's own network paas-web1");
  assert.equal(inspect.Config.Labels['paas.process'], 'web');
  assert.equal(inspect.HostConfig.RestartPolicy?.Name, 'on-failure');

  await commitFiles(dir, { 'www/index.html': 'version-two\n' });
  r = await push(paas, dir, 'web1');
  assert.equal(r.exitCode, 0, r.output);
  assert.match(r.output, /Release v2 live/);
  res = await viaProxy(paas, 'web1.paas.test');
  assert.equal(res.body, 'version-two\n');
  const after2 = await containersOf('web1');
  // v1's web container stays warm (paused) for an instant rollback: docs/instant-rollback.md
  assert.deepEqual(
    after2.map((c) => [c.release, c.state]).sort(),
    [
      ['1', 'paused'],
      ['2', 'running'],
    ],
    'v1 out of service, kept warm',
  );
  const releases = await paas.ssh('releases web1 --json');
  assert.equal(releases.exitCode, 0, releases.stderr);
  assert.deepEqual(
    JSON.parse(releases.stdout).map((x: { version: number; status: string }) => [x.version, x.status]),
    [
      [2, 'live'],
      [1, 'superseded'],
    ],
  );
});

/** A new app serving `marker` (health path `/`), pushed as v1. Returns its work tree. */
async function deployed(app: string, marker: string): Promise<string> {
  const dir = path.join(work, app);
  await commitFiles(dir, busyboxApp(marker, { 'app.json': healthAppJson() }));
  const r = await push(paas, dir, app);
  assert.equal(r.exitCode, 0, r.output);
  return dir;
}

test('an unchanged rebuild reuses the layer cache', async () => {
  const dir = await deployed('cached', 'cached');
  await commitFiles(dir, {}, 'empty commit');
  const r = await push(paas, dir, 'cached');
  assert.equal(r.exitCode, 0, r.output);
  assert.match(r.output, /Using cache/);
  assert.match(r.output, /Release v2 live/);
});

test('a broken Dockerfile fails the push, keeps the old release serving and the ref in place', async () => {
  const dir = await deployed('broken', 'still v1');
  const before = await remoteSha(paas, 'broken');
  await commitFiles(dir, { Dockerfile: `FROM paas-test/busybox:1\nRUN exit 3\n` }, 'broken');
  const r = await push(paas, dir, 'broken');
  assert.equal(r.exitCode, 1, r.output);
  assert.match(r.output, /build failed/);
  assert.match(r.output, /! \[remote rejected\] main -> main/);
  assert.equal(await remoteSha(paas, 'broken'), before, 'branch did not advance');
  const res = await viaProxy(paas, 'broken.paas.test');
  assert.equal(res.status, 200);
  assert.equal(res.body, 'still v1\n');
  // the failed release keeps its deploy output
  const [failed] = JSON.parse((await paas.ssh('releases broken --json')).stdout);
  assert.deepEqual([failed.version, failed.status], [2, 'failed']);
  const log = await paas.ssh('releases:log broken v2');
  assert.equal(log.exitCode, 0, log.stderr);
  assert.match(log.stdout, /RUN exit 3/);
  assert.match(log.stdout, /build failed/);
  const bad = await paas.ssh('releases:log broken v999');
  assert.equal(bad.exitCode, 1);
  assert.match(bad.stderr, /no release v999/);
});

test('an app that exits on boot fails the push with its last log lines; nothing half-started remains', async () => {
  const dir = path.join(work, 'crashy');
  await commitFiles(dir, busyboxApp('ok'));
  assert.equal((await push(paas, dir, 'crashy')).exitCode, 0);
  await commitFiles(dir, { Dockerfile: `FROM paas-test/busybox:1\nCMD echo booting-and-dying; exit 7\n` });
  const r = await push(paas, dir, 'crashy');
  assert.equal(r.exitCode, 1, r.output);
  assert.match(r.output, /booting-and-dying/);
  assert.match(r.output, /exit code 7|exited/);
  assert.match(r.output, /v1 keeps serving/);
  assert.equal((await viaProxy(paas, 'crashy.paas.test')).body, 'ok\n');
  const cs = await containersOf('crashy');
  assert.deepEqual(
    cs.map((c) => c.release),
    ['1'],
    'the crashed v2 containers are gone',
  );
});

test('a push to another branch is stored and deploys nothing', async () => {
  const dir = await deployed('branchy', 'from main');
  const main = await remoteSha(paas, 'branchy');
  await execa('git', ['-C', dir, 'checkout', '-q', '-b', 'feature']);
  const feature = await commitFiles(dir, { 'www/index.html': 'feature\n' });
  const r = await push(paas, dir, 'branchy', 'feature');
  assert.equal(r.exitCode, 0, r.output);
  assert.match(r.output, /Stored feature; only main/);
  assert.equal(await remoteSha(paas, 'branchy', 'feature'), feature);
  assert.equal(await remoteSha(paas, 'branchy'), main);
  assert.equal((await viaProxy(paas, 'branchy.paas.test')).body, 'from main\n');
  assert.deepEqual(
    JSON.parse((await paas.ssh('releases branchy --json')).stdout).map((x: { version: number }) => x.version),
    [1],
  );
});

test('bad app names in the push path are refused before anything touches the disk', async () => {
  const dir = await deployed('named', 'named');
  const repos = () => fs.readdirSync(path.join(paas.dataDir, 'repos')).sort();
  const before = repos();
  assert.equal(before.includes('named.git'), true);
  for (const name of ['UPPER', '../x', 'a_b']) {
    const r = await push(paas, dir, name);
    assert.equal(r.exitCode, 128, r.output);
    assert.match(r.output, /not an app repository/);
  }
  assert.deepEqual(repos(), before);
});

/** `git push` in the background, with its output collected as it streams. */
function pushInBackground(dir: string, app: string, extra: string[] = []) {
  const child = execa('git', ['-C', dir, 'push', ...extra, paas.remoteUrl(app), 'main'], {
    env: paas.gitEnv(),
    reject: false,
    all: true,
    timeout: 600_000,
  });
  let out = '';
  child.all?.on('data', (d: Buffer) => (out += d.toString()));
  return { child, output: () => out };
}

/** app.json whose health check passes only once the test opens the app's gate. */
const GATED = JSON.stringify({ healthchecks: { web: [{ path: '/gate/open', attempts: 600 }] } });

/**
 * An app whose deploys hold in the health check until the test calls open(): a storage mount
 * puts <data-dir>/storage/<app>/gate at /www/gate, and /gate/open answers 404 until the file exists.
 */
async function gatedApp(app: string): Promise<{ open: () => void }> {
  assert.equal((await paas.ssh(`apps:create ${app}`)).exitCode, 0);
  const r = await paas.ssh(`storage:mount ${app} gate:/www/gate`);
  assert.equal(r.exitCode, 0, r.stderr);
  return { open: () => fs.writeFileSync(path.join(paas.dataDir, 'storage', app, 'gate', 'open'), 'ok\n') };
}

const HEALTH_CHECKING = /Health-checking GET \/gate\/open/;

test('a push to another app deploys while one is still deploying', async () => {
  const gate = await gatedApp('para');
  const a = path.join(work, 'para');
  await commitFiles(a, busyboxApp('A', { 'app.json': GATED }));
  const pa = pushInBackground(a, 'para');
  await waitFor('para to reach its health check', async () => HEALTH_CHECKING.test(pa.output()), 300_000);
  const b = path.join(work, 'parb');
  await commitFiles(b, busyboxApp('B', { 'app.json': healthAppJson() }));
  const rb = await push(paas, b, 'parb');
  assert.equal(rb.exitCode, 0, rb.output);
  assert.doesNotMatch(rb.output, /Waiting for a git push/);
  assert.equal((await viaProxy(paas, 'parb.paas.test')).body, 'B\n');
  assert.equal(pa.child.exitCode, null, 'para was still deploying while parb deployed');
  gate.open();
  const ra = await pa.child;
  assert.equal(ra.exitCode, 0, pa.output());
  assert.equal((await viaProxy(paas, 'para.paas.test')).body, 'A\n');
});

test('two pushes to one app are serialized: the second waits for the first, then deploys on top of it', async () => {
  const gate = await gatedApp('same');
  const c = path.join(work, 'same');
  const c2 = path.join(work, 'same2');
  await commitFiles(c, busyboxApp('one', { 'app.json': GATED }));
  const sha2 = await commitFiles(c2, busyboxApp('two', { 'app.json': healthAppJson() }));
  const p1 = pushInBackground(c, 'same');
  await waitFor('the first push to reach its health check', async () => HEALTH_CHECKING.test(p1.output()), 300_000);
  // a forced push of another history: it waits for the lock, then gets the refs the first push wrote
  const p2 = pushInBackground(c2, 'same', ['--force']);
  await waitFor('the second push to wait', async () => /Waiting for a git push of same to finish/.test(p2.output()), 120_000);
  assert.equal(p1.child.exitCode, null, 'the first push is still deploying');
  assert.doesNotMatch(p2.output(), /Building/, 'the second push builds nothing while it waits');
  gate.open();
  const r1 = await p1.child;
  assert.equal(r1.exitCode, 0, p1.output());
  assert.match(p1.output(), /Release v1 live/);
  const r2 = await p2.child;
  assert.equal(r2.exitCode, 0, p2.output());
  assert.match(p2.output(), /Release v2 live/);
  assert.match(p2.output(), /\(forced update\)/);
  assert.equal((await viaProxy(paas, 'same.paas.test')).body, 'two\n');
  assert.equal(await remoteSha(paas, 'same'), sha2, 'the live release is the one the branch points at');
  assert.deepEqual(
    JSON.parse((await paas.ssh('releases same --json')).stdout).map((x: { version: number; status: string }) => [x.version, x.status]),
    [
      [2, 'live'],
      [1, 'superseded'],
    ],
  );
});

test('a 50 MB repository deploys, and git clone fetches it back', async () => {
  const dir = path.join(work, 'big');
  const blob = Buffer.alloc(50 * 1024 * 1024);
  for (let i = 0; i < blob.length; i += 4) blob.writeUInt32LE((i * 2654435761) >>> 0, i);
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, 'blob.bin'), blob);
  fs.writeFileSync(path.join(dir, '.dockerignore'), 'blob.bin\n');
  await commitFiles(dir, busyboxApp('big'));
  const r = await push(paas, dir, 'big');
  assert.equal(r.exitCode, 0, r.output);
  assert.equal((await viaProxy(paas, 'big.paas.test')).body, 'big\n');
  const clone = path.join(work, 'big-clone');
  const c = await execa('git', ['clone', '-q', paas.remoteUrl('big'), clone], { env: paas.gitEnv(), reject: false });
  assert.equal(c.exitCode, 0, String(c.stderr));
  assert.equal(fs.statSync(path.join(clone, 'blob.bin')).size, blob.length);
});

test('build args set with builder:build-args reach the Dockerfile ARGs; bad pairs are refused', async () => {
  const dir = path.join(work, 'args');
  const app = busyboxApp('x');
  await commitFiles(dir, {
    ...app,
    Dockerfile: `FROM paas-test/busybox:1\nARG GREETING=default\nCOPY www /www\nRUN echo "$GREETING" > /www/index.html\nCMD httpd -f -p $PORT -h /www\n`,
  });
  assert.equal((await paas.ssh('apps:create args')).exitCode, 0);
  let r = await paas.ssh('builder:build-args args GREETING=from-build-arg');
  assert.equal(r.exitCode, 0, r.stderr);
  r = await paas.ssh('builder:build-args args not-a-pair');
  assert.equal(r.exitCode, 2);
  assert.match(r.stderr, /is not KEY=VALUE/);
  assert.deepEqual(JSON.parse((await paas.ssh('builder:build-args args --json')).stdout), { GREETING: 'from-build-arg' });
  const p = await push(paas, dir, 'args');
  assert.equal(p.exitCode, 0, p.output);
  assert.equal((await viaProxy(paas, 'args.paas.test')).body, 'from-build-arg\n');
});
