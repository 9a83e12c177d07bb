// Issue 21, hole 4, as an attacker with a developer key would try it, over real OpenSSH against a
// real `paas server`: take `<name>.<global domain>` for an app that does not exist yet, or the apex,
// then watch every deploy of the app made later fail while the squatter serves its URL. A developer
// key may add hosts under the global domain only for its own apps' names; the apex and paas's own
// host are admin only; and a new app's default host always wins over a custom domain.
import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { busyboxApp, commitFiles, healthAppJson, push, viaProxy } from '../helpers/app-repo.js';
import { serverWithApp } from '../helpers/deployed-app.js';
import type { PaasServer } from '../helpers/paas-server.js';

const APP = 'mine';
let paas: PaasServer;
let dev: { priv: string; pub: string };

before(async () => {
  ({ paas } = await serverWithApp(APP, 'mine-v1'));
  dev = await paas.addDeveloper('dev', [APP]);
});
after(async () => {
  await paas?.destroy();
});

const asDev = (cmd: string) => paas.ssh(cmd, { key: dev.priv });

async function domains(app: string): Promise<string[]> {
  const r = await paas.ssh(`domains:list ${app} --json`);
  assert.equal(r.exitCode, 0, r.stderr);
  return (JSON.parse(r.stdout) as { domain: string }[]).map((d) => d.domain);
}

test("a developer key cannot take a future app's host, the apex or paas's own host", async () => {
  const underGlobal = (d: string) =>
    `error: ${d} is under the global domain paas.test: a developer key may add hosts there only for its own apps' names (<app>.paas.test, www.<app>.paas.test)\n`;
  for (const [domain, stderr] of [
    ['future.paas.test', underGlobal('future.paas.test')],
    ['www.future.paas.test', underGlobal('www.future.paas.test')],
    ['paas.test', 'error: paas.test is reserved for paas itself: only an admin key may add it\n'],
    ['paas.paas.test', 'error: paas.paas.test is reserved for paas itself: only an admin key may add it\n'],
  ] as const) {
    const r = await asDev(`domains:add ${APP} ${domain}`);
    assert.deepEqual({ exitCode: r.exitCode, stdout: r.stdout, stderr: r.stderr }, { exitCode: 1, stdout: '', stderr }, domain);
  }
  assert.deepEqual(await domains(APP), ['mine.paas.test'], 'nothing was added');
});

test('a developer key still adds hosts of its own app under the global domain, and any host outside it', async () => {
  for (const domain of ['www.mine.paas.test', 'shop.example.com']) {
    const r = await asDev(`domains:add ${APP} ${domain}`);
    assert.equal(r.exitCode, 0, r.stderr);
  }
  assert.deepEqual(await domains(APP), ['mine.paas.test', 'shop.example.com', 'www.mine.paas.test']);
  assert.equal((await viaProxy(paas, 'www.mine.paas.test', '/')).body, 'mine-v1\n');
});

test("a new app's default host wins over a custom domain another app had for it: the new app deploys and serves it", async () => {
  // only an admin can still do this (or it was stored before the rule)
  assert.equal((await paas.ssh(`domains:add ${APP} future.paas.test`)).exitCode, 0);
  assert.equal((await viaProxy(paas, 'future.paas.test', '/')).body, 'mine-v1\n');

  // the app is made by its first push
  const dir = path.join(paas.dataDir, 'work', 'future');
  await commitFiles(dir, busyboxApp('future-v1', { 'app.json': healthAppJson() }));
  const r = await push(paas, dir, 'future');
  assert.equal(r.exitCode, 0, r.output);
  assert.equal((await viaProxy(paas, 'future.paas.test', '/')).body, 'future-v1\n');
  assert.ok(!(await domains(APP)).includes('future.paas.test'), 'the custom domain left the other app');

  // and by apps:create, before any deploy
  assert.equal((await paas.ssh(`domains:add ${APP} later.paas.test`)).exitCode, 0);
  assert.equal((await paas.ssh('apps:create later')).exitCode, 0);
  assert.ok(!(await domains(APP)).includes('later.paas.test'));
  const later = await viaProxy(paas, 'later.paas.test', '/');
  assert.notEqual(later.body, 'mine-v1\n', 'the host is no longer routed to mine');
  assert.equal((await viaProxy(paas, 'mine.paas.test', '/')).body, 'mine-v1\n', 'mine still serves');
});
