import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { viaProxy } from '../helpers/app-repo.js';
import { dockerClient, runFilter } from '../helpers/docker.js';
import { serverWithApp } from '../helpers/deployed-app.js';
import type { PaasServer } from '../helpers/paas-server.js';

// resource:limit / resource:report and storage:mount / unmount / list over real OpenSSH against a
// real `paas server` and Docker: stored, applied at the next rollout, bad input changes nothing.

const APP = 'lim1';
const HOST = `${APP}.paas.test`;
let paas: PaasServer;

before(async () => {
  ({ paas } = await serverWithApp(APP, 'limits'));
});
after(async () => {
  await paas?.destroy();
});

/** HostConfig of the app's running web containers (this server's only). */
async function hostConfigs(): Promise<Array<{ Memory: number; NanoCpus: number; Binds: string[] | null }>> {
  const docker = dockerClient();
  const list = await docker.listContainers({ filters: { label: [`paas.app=${APP}`, runFilter(paas.labels)] } });
  return Promise.all(list.map(async (c) => (await docker.getContainer(c.Id).inspect()).HostConfig as never));
}

const oneLineExit2 = async (cmd: string) => {
  const r = await paas.ssh(cmd);
  assert.equal(r.exitCode, 2, `${cmd}: ${r.stdout} ${r.stderr}`);
  assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
  assert.match(r.stderr, /nothing was changed|usage/);
};

test('resource:limit stores limits, applies them at the next rollout, per process over the default', async () => {
  let r = await paas.ssh(`resource:limit ${APP} memory=64m cpus=0.5`);
  assert.equal(r.exitCode, 0, r.stderr);
  assert.match(r.stdout, /memory 64m, cpus 0\.5/);
  assert.match(r.stdout, /next rollout/);
  assert.deepEqual(
    (await hostConfigs()).map((h) => [h.Memory, h.NanoCpus]),
    [[0, 0]],
    'nothing changes before the rollout',
  );
  const report = JSON.parse((await paas.ssh(`resource:report ${APP} --json`)).stdout);
  assert.deepEqual(report.resources, { '*': { memoryBytes: 64 * 1024 ** 2, nanoCpus: 5e8 } });

  for (const bad of ['memory=512', 'memory=2m', 'cpus=0', 'cpus=-1', 'cpus=abc', 'disk=1g', 'memory', '--process nope memory=64m', '']) {
    await oneLineExit2(`resource:limit ${APP} ${bad}`);
  }
  assert.deepEqual(JSON.parse((await paas.ssh(`resource:report ${APP} --json`)).stdout), report, 'bad input changed nothing');

  r = await paas.ssh(`ps:restart ${APP}`);
  assert.equal(r.exitCode, 0, r.stderr);
  assert.deepEqual(
    (await hostConfigs()).map((h) => [h.Memory, h.NanoCpus]),
    [[64 * 1024 ** 2, 5e8]],
  );
  const ps = JSON.parse((await paas.ssh(`ps:report ${APP} --json`)).stdout);
  assert.equal(ps.containers[0].memoryLimitBytes, 64 * 1024 ** 2);

  r = await paas.ssh(`resource:limit ${APP} --process web memory=96m`);
  assert.equal(r.exitCode, 0, r.stderr);
  assert.equal((await paas.ssh(`ps:restart ${APP}`)).exitCode, 0);
  assert.deepEqual(
    (await hostConfigs()).map((h) => [h.Memory, h.NanoCpus]),
    [[96 * 1024 ** 2, 0]],
    'the web entry replaces the default entry',
  );
  const text = (await paas.ssh(`resource:report ${APP}`)).stdout;
  assert.match(text, /\* \(default\)\s+64m\s+0\.5/);
  assert.match(text, /web\s+96m\s+unlimited/);

  r = await paas.ssh(`resource:limit ${APP} --process web memory=none`);
  assert.equal(r.exitCode, 0, r.stderr);
  assert.equal((await paas.ssh(`resource:limit ${APP} memory=none cpus=none`)).exitCode, 0);
  assert.deepEqual(JSON.parse((await paas.ssh(`resource:report ${APP} --json`)).stdout).resources, {});
  assert.equal((await paas.ssh(`ps:restart ${APP}`)).exitCode, 0);
  assert.deepEqual(
    (await hostConfigs()).map((h) => [h.Memory, h.NanoCpus]),
    [[0, 0]],
  );
});

test('storage:mount binds a dir under <data-dir>/storage/<app>/ at the next rollout; unmount removes it', async () => {
  const hostDir = path.join(paas.dataDir, 'storage', APP, 'files');
  let r = await paas.ssh(`storage:mount ${APP} files:/www/files`);
  assert.equal(r.exitCode, 0, r.stderr);
  assert.match(r.stdout, /next rollout/);
  assert.ok(fs.statSync(hostDir).isDirectory(), 'host dir created');
  fs.writeFileSync(path.join(hostDir, 'hello.txt'), 'from the host\n');
  assert.equal((await viaProxy(paas, HOST, '/files/hello.txt')).status, 404, 'not mounted before the rollout');
  assert.deepEqual(JSON.parse((await paas.ssh(`storage:list ${APP} --json`)).stdout), [
    { host: hostDir, container: '/www/files', readOnly: false },
  ]);
  // the same mount again is fine; another host dir on the same container dir is refused
  assert.equal((await paas.ssh(`storage:mount ${APP} files:/www/files`)).exitCode, 0);
  assert.equal((await paas.ssh(`storage:mount ${APP} other:/www/files`)).exitCode, 1);

  for (const bad of ['nocolon', 'a:relative', 'a:/', 'a:/proc/x', 'a:/b:c:d']) await oneLineExit2(`storage:mount ${APP} ${bad}`);
  for (const refused of [
    '/var/run/docker.sock:/sock',
    '/var/run:/run2',
    '/proc:/p',
    '/sys:/s',
    '/:/host',
    `${paas.dataDir}:/d`,
    '../../keys:/k',
  ]) {
    const x = await paas.ssh(`storage:mount ${APP} ${refused}`);
    assert.equal(x.exitCode, 1, `${refused}: ${x.stderr}`);
    assert.equal(x.stderr.trim().split('\n').length, 1, x.stderr);
    assert.match(x.stderr, /refusing/);
  }
  assert.equal(JSON.parse((await paas.ssh(`storage:list ${APP} --json`)).stdout).length, 1, 'refusals changed nothing');

  r = await paas.ssh(`ps:restart ${APP}`);
  assert.equal(r.exitCode, 0, r.stderr);
  const res = await viaProxy(paas, HOST, '/files/hello.txt');
  assert.equal(res.status, 200);
  assert.equal(res.body, 'from the host\n');
  assert.deepEqual((await hostConfigs())[0].Binds, [`${hostDir}:/www/files`]);

  r = await paas.ssh(`storage:unmount ${APP} /www/files`);
  assert.equal(r.exitCode, 0, r.stderr);
  assert.equal((await paas.ssh(`storage:unmount ${APP} /www/files`)).exitCode, 1);
  assert.match((await paas.ssh(`storage:list ${APP}`)).stdout, /no mounts/);
  assert.equal((await paas.ssh(`ps:restart ${APP}`)).exitCode, 0);
  assert.equal((await viaProxy(paas, HOST, '/files/hello.txt')).status, 404);
  assert.ok(fs.existsSync(path.join(hostDir, 'hello.txt')), 'unmount keeps the files');
});

test("apps:destroy removes the app's storage dir with everything else", async () => {
  const dir = path.join(paas.dataDir, 'storage', APP);
  assert.ok(fs.existsSync(dir));
  const r = await paas.ssh(`apps:destroy ${APP} --force`);
  assert.equal(r.exitCode, 0, r.stderr);
  assert.equal(fs.existsSync(dir), false);
  assert.equal((await hostConfigs()).length, 0, 'no container left');
});
