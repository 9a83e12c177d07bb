import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { busyboxApp, commitFiles, push, remoteSha, viaProxy, healthAppJson } from '../helpers/app-repo.js';
import { BUSYBOX_IMAGE, ensureBusyboxImage } from '../helpers/base-images.js';
import { dockerClient, requireDocker, runFilter } from '../helpers/docker.js';
import { PaasServer } from '../helpers/paas-server.js';
import { waitFor } from '../helpers/wait.js';

let paas: PaasServer;
const APP_JSON = healthAppJson();

before(async () => {
  await requireDocker();
  await ensureBusyboxImage();
  paas = await new PaasServer().start();
});
after(async () => {
  await paas?.destroy();
});

const releases = async (app: string) =>
  JSON.parse((await paas.ssh(`releases ${app} --json`)).stdout) as { version: number; status: string }[];

test('Ctrl-C during the build cancels it: the old release serves, nothing new runs, the next push works', async () => {
  const repo = path.join(paas.dataDir, 'work', 'cancel');
  await commitFiles(repo, busyboxApp('old', { 'app.json': APP_JSON }));
  assert.equal((await push(paas, repo, 'cancel')).exitCode, 0);
  await commitFiles(repo, {
    // the step's command names this run, so only its own build container is looked for below
    Dockerfile: `FROM ${BUSYBOX_IMAGE}\nCOPY www /www\nRUN sleep 600 # ${paas.labels['paas.test.run']}\nCMD httpd -f -p $PORT -h /www\n`,
    'www/index.html': 'new\n',
  });
  const before = await remoteSha(paas, 'cancel');
  // its own process group, so the SIGINT reaches git and its ssh child as Ctrl-C in a terminal does
  const git = spawn('git', ['-C', repo, 'push', paas.remoteUrl('cancel'), 'main'], {
    env: { ...process.env, ...paas.gitEnv() },
    detached: true,
  });
  let out = '';
  git.stderr.on('data', (d) => (out += d));
  await waitFor('the build to start', async () => /RUN sleep 600/.test(out), 120_000);
  const exited = new Promise((r) => git.on('close', r));
  process.kill(-git.pid!, 'SIGINT');
  await exited;
  // the server notices the dropped session, aborts the build and marks the release failed
  const rs = await waitFor('v2 marked failed', async () => {
    const x = await releases('cancel');
    return x[0].status === 'failed' && x;
  });
  // the build's step container goes with the cancelled build
  const run = paas.labels['paas.test.run'];
  await waitFor('the build container to be removed', async () => {
    const all = await dockerClient().listContainers({ all: true, filters: { ancestor: [BUSYBOX_IMAGE] } });
    return all.every((c) => !c.Command.includes(run));
  });
  assert.deepEqual(
    rs.map((r) => [r.version, r.status]),
    [
      [2, 'failed'],
      [1, 'live'],
    ],
  );
  assert.equal(await remoteSha(paas, 'cancel'), before, 'branch did not advance');
  assert.equal((await viaProxy(paas, 'cancel.paas.test')).body, 'old\n');

  const running = await dockerClient().listContainers({ filters: { label: ['paas.app=cancel', runFilter(paas.labels)] } });
  assert.deepEqual(
    running.map((c) => c.Labels['paas.release']),
    ['1'],
  );
  await commitFiles(repo, { Dockerfile: busyboxApp('x').Dockerfile, 'www/index.html': 'after\n' });
  const r = await push(paas, repo, 'cancel');
  assert.equal(r.exitCode, 0, r.output);
  assert.equal((await viaProxy(paas, 'cancel.paas.test')).body, 'after\n');
});

test('only the images of the last 5 releases are kept; rolling back to a pruned one fails clearly', async () => {
  const repo = path.join(paas.dataDir, 'work', 'prune');
  for (let i = 1; i <= 7; i++) {
    await commitFiles(repo, i === 1 ? busyboxApp('p1', { 'app.json': APP_JSON }) : { 'www/index.html': `p${i}\n` });
    const r = await push(paas, repo, 'prune');
    assert.equal(r.exitCode, 0, r.output);
  }
  const tags = (await dockerClient().listImages({ filters: { reference: ['paas/prune'], label: [runFilter(paas.labels)] } }))
    .flatMap((i) => i.RepoTags ?? [])
    .sort();
  assert.deepEqual(tags, ['paas/prune:v3', 'paas/prune:v4', 'paas/prune:v5', 'paas/prune:v6', 'paas/prune:v7']);
  const rb = await paas.ssh('releases:rollback prune v1');
  assert.equal(rb.exitCode, 1);
  assert.match(rb.stderr, /v1 of 'prune' cannot be restored: its image paas\/prune:v1 was pruned/);
  assert.equal((await viaProxy(paas, 'prune.paas.test')).body, 'p7\n');
});

test("a rollback restores the target release's app.json health check along with its image", async () => {
  const repo = path.join(paas.dataDir, 'work', 'checks');
  await commitFiles(repo, busyboxApp('c1', { 'app.json': healthAppJson('/v1-health.html'), 'www/v1-health.html': 'ok\n' }));
  let r = await push(paas, repo, 'checks');
  assert.equal(r.exitCode, 0, r.output);
  assert.match(r.output, /Health-checking GET \/v1-health\.html/);
  await commitFiles(repo, { 'app.json': healthAppJson('/'), 'www/index.html': 'c2\n' });
  r = await push(paas, repo, 'checks');
  assert.equal(r.exitCode, 0, r.output);
  assert.match(r.output, /Health-checking GET \/ and/);
  const rb = await paas.ssh('releases:rollback checks v1');
  assert.equal(rb.exitCode, 0, rb.stderr);
  assert.match(rb.stdout, /Health-checking GET \/v1-health\.html/);
  assert.equal((await viaProxy(paas, 'checks.paas.test')).body, 'c1\n');
  // checks:set reports what the next rollout will use: its own values over the live release's app.json
  const set = await paas.ssh('checks:set checks timeout=4 --json');
  assert.equal(set.exitCode, 0, set.stderr);
  assert.deepEqual(JSON.parse(set.stdout), { path: '/v1-health.html', timeout: 4, attempts: 30, wait: 2 });
});
