import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { execa } from 'execa';
import { busyboxApp, commitFiles, push, remoteSha, viaProxy } from '../helpers/app-repo.js';
import { ensureBusyboxImage } from '../helpers/base-images.js';
import { dockerClient, requireDocker } from '../helpers/docker.js';
import { PaasServer } from '../helpers/paas-server.js';

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

const containersOf = async (app: string) =>
  (await dockerClient().listContainers({ all: true, filters: { label: [`paas.app=${app}`] } })).map((c) => ({
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
  assert.ok(inspect.NetworkSettings.Networks.paas, 'joined the paas network');
  assert.equal(inspect.Config.Labels['paas.process'], 'web');
  assert.equal(inspect.HostConfig.RestartPolicy?.Name, 'on-failure');

  await commitFiles(dir, { 'www/index.html': 'version-two\n' });
  r = await push(paas, dir, 'web1');
  assert.equal(r.exitCode, 0, r.output);
  assert.match(r.output, /Release v2 live/);
  res = await viaProxy(paas, 'web1.paas.test');
  assert.equal(res.body, 'version-two\n');
  const after2 = await containersOf('web1');
  assert.deepEqual(
    after2.map((c) => c.release),
    ['2'],
    'v1 containers retired',
  );
  const releases = await paas.ssh('releases web1 --json');
  if (releases.exitCode === 0)
    assert.deepEqual(
      JSON.parse(releases.stdout).map((x: { version: number }) => x.version),
      [2, 1],
    );
});

test('an unchanged rebuild reuses the layer cache', async () => {
  const dir = path.join(work, 'web1');
  await commitFiles(dir, {}, 'empty commit');
  const r = await push(paas, dir, 'web1');
  assert.equal(r.exitCode, 0, r.output);
  assert.match(r.output, /Using cache/);
});

test('a broken Dockerfile fails the push, keeps the old release serving and the ref in place', async () => {
  const dir = path.join(work, 'web1');
  const before = await remoteSha(paas, 'web1');
  await commitFiles(dir, { Dockerfile: `FROM paas-test/busybox:1\nRUN exit 3\n` }, 'broken');
  const r = await push(paas, dir, 'web1');
  assert.notEqual(r.exitCode, 0);
  assert.match(r.output, /build failed/);
  assert.match(r.output, /! \[remote rejected\] main -> main/);
  assert.equal(await remoteSha(paas, 'web1'), before, 'branch did not advance');
  assert.equal((await viaProxy(paas, 'web1.paas.test')).status, 200);
  // the failed release keeps its deploy output
  const failed = JSON.parse((await paas.ssh('releases web1 --json')).stdout)[0];
  assert.equal(failed.status, 'failed');
  const log = await paas.ssh(`releases:log web1 v${failed.version}`);
  assert.equal(log.exitCode, 0, log.stderr);
  assert.match(log.stdout, /RUN exit 3/);
  assert.match(log.stdout, /build failed/);
  const bad = await paas.ssh('releases:log web1 v999');
  assert.equal(bad.exitCode, 1);
  assert.match(bad.stderr, /no release v999/);
  await execa('git', ['-C', dir, 'reset', '-q', '--hard', 'HEAD~1']);
});

test('an app that exits on boot fails the push with its last log lines; nothing half-started remains', async () => {
  const dir = path.join(work, 'crashy');
  await commitFiles(dir, busyboxApp('ok'));
  assert.equal((await push(paas, dir, 'crashy')).exitCode, 0);
  await commitFiles(dir, { Dockerfile: `FROM paas-test/busybox:1\nCMD echo booting-and-dying; exit 7\n` });
  const r = await push(paas, dir, 'crashy');
  assert.notEqual(r.exitCode, 0, r.output);
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
  const dir = path.join(work, 'web1');
  await execa('git', ['-C', dir, 'checkout', '-q', '-b', 'feature']);
  await commitFiles(dir, { 'www/index.html': 'feature\n' });
  const r = await push(paas, dir, 'web1', 'feature');
  assert.equal(r.exitCode, 0, r.output);
  assert.match(r.output, /Stored feature; only main/);
  assert.ok(await remoteSha(paas, 'web1', 'feature'));
  assert.notEqual((await viaProxy(paas, 'web1.paas.test')).body, 'feature\n');
  await execa('git', ['-C', dir, 'checkout', '-q', 'main']);
});

test('bad app names in the push path are refused before anything touches the disk', async () => {
  const dir = path.join(work, 'web1');
  for (const name of ['UPPER', '../x', 'a_b']) {
    const r = await push(paas, dir, name);
    assert.notEqual(r.exitCode, 0);
    assert.match(r.output, /not an app repository/);
  }
  assert.deepEqual(fs.readdirSync(path.join(paas.dataDir, 'repos')).sort(), ['crashy.git', 'web1.git']);
});

test('pushes to two apps run in parallel; two pushes to one app are serialized', async () => {
  const a = path.join(work, 'para');
  const b = path.join(work, 'parb');
  await commitFiles(a, busyboxApp('A'));
  await commitFiles(b, busyboxApp('B'));
  const [ra, rb] = await Promise.all([push(paas, a, 'para'), push(paas, b, 'parb')]);
  assert.equal(ra.exitCode, 0, ra.output);
  assert.equal(rb.exitCode, 0, rb.output);
  const c = path.join(work, 'same');
  const c2 = path.join(work, 'same2');
  await commitFiles(c, busyboxApp('one'));
  await commitFiles(c2, busyboxApp('two'));
  const [r1, r2] = await Promise.all([push(paas, c, 'same'), push(paas, c2, 'same', 'main', ['--force'])]);
  const outs = [r1.output, r2.output].join('\n');
  assert.match(outs, /Waiting for a git push of same to finish/);
  // the second push either deploys after the first, or (when both started from an empty
  // branch) is refused before deploying because the branch moved while it waited
  const ok = [r1, r2].filter((r) => r.exitCode === 0);
  assert.ok(ok.length >= 1, outs);
  for (const r of [r1, r2].filter((x) => x.exitCode !== 0))
    assert.match(r.output, /\[rejected\] +main -> main \(fetch first\)|moved to \w+ while this push waited/);
  const live = await viaProxy(paas, 'same.paas.test');
  const served = live.body.trim();
  const winner = ok.length === 2 ? null : ok[0] === r1 ? 'one' : 'two';
  if (winner) assert.equal(served, winner, 'the live release is the one the branch points at');
  const branch = await remoteSha(paas, 'same');
  const sha1 = (await execa('git', ['-C', c, 'rev-parse', 'HEAD'])).stdout.trim();
  assert.equal(branch === sha1 ? 'one' : 'two', served);
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
