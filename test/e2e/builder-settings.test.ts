import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { commitFiles, healthAppJson, push, viaProxy } from '../helpers/app-repo.js';
import { BUSYBOX_IMAGE, ensureBusyboxImage } from '../helpers/base-images.js';
import { requireDocker } from '../helpers/docker.js';
import { PaasServer } from '../helpers/paas-server.js';

// Builds on the server as a monorepo user and a small-VPS admin drive them: build-dir and
// dockerfile-path (paths outside the repository refused, symlinks too), builder:report, one build
// at a time per host with the queue position shown, and the free-memory floor.

let paas: PaasServer;

before(async () => {
  await requireDocker();
  await ensureBusyboxImage();
  // a build below the memory floor waits 2 s (not 60) before it is refused
  paas = await new PaasServer({ PAAS_BUILD_MEMORY_WAIT_MS: '2000' }).start();
});
after(async () => {
  await paas?.destroy();
});

const dockerfile = (marker: string, extra = '') =>
  `FROM ${BUSYBOX_IMAGE}\n${extra}RUN mkdir -p /www && echo ${marker} > /www/index.html\nCMD exec httpd -f -p $PORT -h /www\n`;
const body = async (app: string) => (await viaProxy(paas, `${app}.paas.test`)).body;
const workDir = (app: string) => path.join(paas.dataDir, 'work', app);

test('a monorepo app builds from build-dir with its own Dockerfile path; builder:report says what and why', async () => {
  const app = 'mono';
  await commitFiles(workDir(app), {
    'README.md': 'monorepo root, no Dockerfile here\n',
    'services/api/docker/Dockerfile.prod': dockerfile('api-prod'),
    'services/api/Dockerfile': dockerfile('api-plain'),
    'services/api/app.json': healthAppJson(),
    'services/web/Dockerfile': dockerfile('web'),
  });
  assert.equal((await paas.ssh(`apps:create ${app}`)).exitCode, 0);
  const before = JSON.parse((await paas.ssh(`builder:report ${app} --json`)).stdout);
  assert.equal(before.builder, null);
  assert.match(before.reason, /decided at the first push/);

  const setDir = await paas.ssh(`builder:set ${app} build-dir ./services/api/`);
  assert.equal(setDir.exitCode, 0, setDir.stderr);
  assert.match(setDir.stdout, /build-dir of mono set to services\/api/);
  const p1 = await push(paas, workDir(app), app);
  assert.equal(p1.exitCode, 0, p1.output);
  assert.equal(await body(app), 'api-plain\n');
  const report = await paas.ssh(`builder:report ${app}`);
  assert.match(report.stdout, /Builder:\s+dockerfile/);
  assert.match(report.stdout, /Why:\s+Dockerfile is in the build dir/);
  assert.match(report.stdout, /Build dir:\s+services\/api/);

  assert.equal((await paas.ssh(`builder:set ${app} dockerfile-path docker/Dockerfile.prod`)).exitCode, 0);
  assert.equal((await paas.ssh(`ps:rebuild ${app}`)).exitCode, 0);
  assert.equal(await body(app), 'api-prod\n');
  assert.deepEqual(
    (({ builder, reason, buildDir, dockerfilePath }) => ({ builder, reason, buildDir, dockerfilePath }))(
      JSON.parse((await paas.ssh(`builder:report ${app} --json`)).stdout),
    ),
    {
      builder: 'dockerfile',
      reason: 'docker/Dockerfile.prod is in the build dir',
      buildDir: 'services/api',
      dockerfilePath: 'docker/Dockerfile.prod',
    },
  );
  // back to the defaults: the root has no Dockerfile, so the report says another builder would run
  assert.equal((await paas.ssh(`builder:set ${app} build-dir`)).exitCode, 0);
  assert.equal((await paas.ssh(`builder:set ${app} dockerfile-path .`)).exitCode, 0);
  const root = JSON.parse((await paas.ssh(`builder:report ${app} --json`)).stdout);
  assert.notEqual(root.builder, 'dockerfile');
  assert.equal(root.lastBuilt, 'dockerfile');
});

test('paths outside the repository are refused: .., absolute, a missing dir, and committed symlinks that escape', async () => {
  const app = 'escapes';
  await commitFiles(workDir(app), { Dockerfile: dockerfile('safe'), 'app.json': healthAppJson(), 'sub/Dockerfile': dockerfile('sub') });
  const p = await push(paas, workDir(app), app);
  assert.equal(p.exitCode, 0, p.output);
  const settings = async () => (await paas.ssh(`builder:report ${app} --json`)).stdout;
  const unchanged = await settings();
  for (const [args, why] of [
    ['build-dir ../other', /build-dir must stay inside the repository/],
    ['build-dir sub/../../x', /build-dir must stay inside the repository/],
    ['build-dir /etc', /build-dir must be a relative path inside the repository/],
    ['dockerfile-path /etc/passwd', /dockerfile-path must be a relative path/],
    ['dockerfile-path ../Dockerfile', /must stay inside the repository/],
  ] as const) {
    const r = await paas.ssh(`builder:set ${app} ${args}`);
    assert.equal(r.exitCode, 2, `${args}: ${r.stderr}`);
    assert.match(r.stderr, why);
    assert.equal(r.stderr.trim().split('\n').length, 1);
  }
  assert.equal(await settings(), unchanged, 'nothing was changed');

  // a dir that is not in the commit is only seen at the build: refused before anything is built
  assert.equal((await paas.ssh(`builder:set ${app} build-dir missing/dir`)).exitCode, 0);
  const missing = await paas.ssh(`ps:rebuild ${app}`);
  assert.equal(missing.exitCode, 1);
  assert.match(missing.stdout, /build-dir 'missing\/dir' is not in the pushed commit/);
  assert.equal(await body(app), 'safe\n', 'the live release keeps serving');
  assert.equal((await paas.ssh(`builder:set ${app} build-dir sub`)).exitCode, 0);

  // symlinks that lead out of the repository never reach the build dir: the push is refused
  fs.symlinkSync('/etc', path.join(workDir(app), 'etc-link'));
  fs.symlinkSync('../../../../../../etc/passwd', path.join(workDir(app), 'sub', 'Dockerfile.link'));
  await commitFiles(workDir(app), {}, 'links');
  const links = await push(paas, workDir(app), app);
  assert.notEqual(links.exitCode, 0, links.output);
  assert.match(links.output, /symlink 'etc-link' leads outside the repository; the commit is refused/);
  assert.equal(await body(app), 'safe\n');
});

test('one build at a time per host: a second push waits, is told its position, then deploys', async () => {
  const [a, b] = ['queue-a', 'queue-b'];
  // the first build holds the slot for a few seconds
  await commitFiles(workDir(a), { Dockerfile: dockerfile('a', 'RUN sleep 6\n'), 'app.json': healthAppJson() });
  await commitFiles(workDir(b), { Dockerfile: dockerfile('b'), 'app.json': healthAppJson() });
  const first = push(paas, workDir(a), a);
  // wait until a's build has its slot
  for (let i = 0; i < 200 && !fs.readdirSync(path.join(paas.dataDir, 'builds')).some((d) => d.startsWith(a)); i++)
    await new Promise((r) => setTimeout(r, 100));
  await new Promise((r) => setTimeout(r, 1500));
  const second = await push(paas, workDir(b), b);
  const firstDone = await first;
  assert.equal(firstDone.exitCode, 0, firstDone.output);
  assert.equal(second.exitCode, 0, second.output);
  assert.match(second.output, /Waiting for a build slot: position 1 in the queue \(1 build at a time/);
  assert.doesNotMatch(firstDone.output, /Waiting for a build slot/);
  assert.equal(await body(b), 'b\n');

  const set = await paas.ssh('builder:set --global concurrency 2');
  assert.equal(set.exitCode, 0, set.stderr);
  assert.match((await paas.ssh(`builder:report ${a}`)).stdout, /Concurrency:\s+2 build\(s\) at a time/);
  for (const [args, why] of [
    ['concurrency 0', /concurrency must be a whole number from 1 to 64/],
    ['concurrency many', /concurrency must be a whole number/],
    ['concurrency', /give a value/],
    ['min-free-memory lots', /memory must be a number with a unit/],
    ['speed 3', /unknown global builder setting 'speed'/],
  ] as const) {
    const r = await paas.ssh(`builder:set --global ${args}`);
    assert.equal(r.exitCode, 2, `${args}: ${r.stderr}`);
    assert.match(r.stderr, why);
  }
  assert.equal((await paas.ssh('builder:set --global concurrency 1')).exitCode, 0);
});

test('below the free-memory floor a push waits, then is refused with a clear line; the live release keeps serving', async () => {
  const app = 'lowmem';
  await commitFiles(workDir(app), { Dockerfile: dockerfile('v1'), 'app.json': healthAppJson() });
  assert.equal((await push(paas, workDir(app), app)).exitCode, 0);
  const set = await paas.ssh('builder:set --global min-free-memory 1000g');
  assert.equal(set.exitCode, 0, set.stderr);
  assert.match(set.stdout, /min-free-memory 1000g/);
  await commitFiles(workDir(app), { Dockerfile: dockerfile('v2') });
  const r = await push(paas, workDir(app), app);
  assert.notEqual(r.exitCode, 0, r.output);
  assert.match(r.output, /Waiting up to 2 s: free memory .* is below the build floor of 1000g/);
  assert.match(r.output, /the build was refused rather than started and OOM-killed/);
  assert.doesNotMatch(r.output, /Building paas\/lowmem:v2/);
  assert.equal(await body(app), 'v1\n');
  assert.equal((await paas.ssh('builder:set --global min-free-memory none')).exitCode, 0);
  const ok = await push(paas, workDir(app), app);
  assert.equal(ok.exitCode, 0, ok.output);
  assert.equal(await body(app), 'v2\n');
});
