// domains:set-global over real OpenSSH against a real `paas server` and Docker: every app is
// rerouted to <app>.<new domain> at once, custom domains stay, the setting outlives a restart of
// the control plane and wins over PAAS_DOMAIN. Its own server: the change reroutes every app.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { commitFiles, push, viaProxy } from '../helpers/app-repo.js';
import { serverWithApp } from '../helpers/deployed-app.js';
import type { PaasServer } from '../helpers/paas-server.js';

const APP = 'gd';
let paas: PaasServer;
let dir: string;

before(async () => {
  ({ paas, dir } = await serverWithApp(APP, 'global-domain'));
});
after(async () => {
  await paas?.destroy();
});

test('domains:set-global reroutes every app to <app>.<domain>, keeps custom domains, and outlives a restart', async () => {
  assert.equal(paas.serverEnv.PAAS_DOMAIN, 'paas.test');
  assert.equal((await viaProxy(paas, 'gd.paas.test')).body, 'global-domain\n');
  assert.equal((await paas.ssh(`domains:add ${APP} www.gd.example`)).exitCode, 0);
  assert.equal((await paas.ssh('apps:create gd-empty')).exitCode, 0);

  const r = await paas.ssh('domains:set-global Apps.Example.TEST.');
  assert.equal(r.exitCode, 0, r.stderr);
  assert.equal(r.stdout, 'Global domain set to apps.example.test; rerouted 2 app(s)\n');

  const moved = await viaProxy(paas, 'gd.apps.example.test');
  assert.equal(moved.status, 200);
  assert.equal(moved.body, 'global-domain\n');
  const old = await viaProxy(paas, 'gd.paas.test');
  assert.equal(old.status, 503, 'the old global host is no longer routed');
  assert.equal((await viaProxy(paas, 'www.gd.example')).body, 'global-domain\n', 'custom domain kept');
  assert.deepEqual(JSON.parse((await paas.ssh(`domains:list ${APP} --json`)).stdout), [
    { domain: 'gd.apps.example.test', kind: 'global' },
    { domain: 'www.gd.example', kind: 'custom' },
  ]);
  assert.equal(JSON.parse((await paas.ssh(`apps:info ${APP} --json`)).stdout).url, 'http://gd.apps.example.test');
  assert.equal(JSON.parse((await paas.ssh('apps:info gd-empty --json')).stdout).url, 'http://gd-empty.apps.example.test');

  // bad input changes nothing
  for (const bad of ["'bad_name!'", 'localhost', 'a..b']) {
    const x = await paas.ssh(`domains:set-global ${bad}`);
    assert.equal(x.exitCode, 2, `${bad}: ${x.stderr}`);
    assert.equal(x.stderr.trim().split('\n').length, 1, x.stderr);
  }
  assert.equal(JSON.parse((await paas.ssh(`apps:info ${APP} --json`)).stdout).url, 'http://gd.apps.example.test');
  assert.equal((await paas.ssh('domains:set-global')).exitCode, 2);

  // the stored setting wins over PAAS_DOMAIN=paas.test after a restart, and a push deploys to it
  await paas.stop();
  await paas.spawnServer();
  assert.equal(JSON.parse((await paas.ssh(`apps:info ${APP} --json`)).stdout).url, 'http://gd.apps.example.test');
  await commitFiles(dir, { 'www/index.html': 'after-restart\n' });
  const p = await push(paas, dir, APP);
  assert.equal(p.exitCode, 0, p.output);
  assert.match(p.output, /Release v2 live at http:\/\/gd\.apps\.example\.test /);
  assert.equal((await viaProxy(paas, 'gd.apps.example.test')).body, 'after-restart\n');
  assert.equal((await viaProxy(paas, 'gd.paas.test')).status, 503);
});
