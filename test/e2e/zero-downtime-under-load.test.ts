import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { busyboxApp, commitFiles, push, healthAppJson } from '../helpers/app-repo.js';
import { ensureBusyboxImage } from '../helpers/base-images.js';
import { requireDocker } from '../helpers/docker.js';
import { startLoad } from '../helpers/load.js';
import { PaasServer } from '../helpers/paas-server.js';

let paas: PaasServer;
let repo: string;
const APP_JSON = healthAppJson();

before(async () => {
  await requireDocker();
  await ensureBusyboxImage();
  paas = await new PaasServer().start();
  repo = path.join(paas.dataDir, 'work', 'steady');
  await commitFiles(repo, busyboxApp('v0', { 'app.json': APP_JSON }));
  const r = await push(paas, repo, 'steady');
  assert.equal(r.exitCode, 0, r.output);
});
after(async () => {
  await paas?.destroy();
});

for (const keepAlive of [true, false]) {
  test(`5 pushes and 3 scale changes under load drop nothing (client keep-alive ${keepAlive})`, async () => {
    const load = startLoad({ port: paas.ports.http, host: 'steady.paas.test', clients: 8, keepAlive });
    try {
      // the load runs before, between and after every change (however slow the machine)
      await load.more(16);
      for (let i = 1; i <= 5; i++) {
        await commitFiles(repo, { 'www/index.html': `v${i}-${keepAlive}\n` });
        const r = await push(paas, repo, 'steady');
        assert.equal(r.exitCode, 0, r.output);
        await load.more(16);
        if (i <= 3) {
          const s = await paas.ssh(`apps:scale steady web=${[3, 1, 2][i - 1]}`);
          assert.equal(s.exitCode, 0, s.stderr);
          await load.more(16);
        }
      }
    } finally {
      const report = await load.stop();
      assert.deepEqual(report.errors, {}, `socket errors: ${JSON.stringify(report)}`);
      assert.equal(report.non2xx, 0, `non-2xx: ${JSON.stringify(report.statuses)}`);
    }
    await paas.ssh('apps:scale steady web=1');
  });
}

test('kill -9 of the control plane under load drops nothing; a restarted one deploys again', async () => {
  const load = startLoad({ port: paas.ports.http, host: 'steady.paas.test', clients: 8 });
  try {
    // requests before, during the time without a control plane, and after the new one started
    await load.more(16);
    await paas.kill9();
    await load.more(100);
    await paas.spawnServer();
    await load.more(100);
  } finally {
    const report = await load.stop();
    assert.deepEqual(report.errors, {}, JSON.stringify(report));
    assert.equal(report.non2xx, 0, JSON.stringify(report.statuses));
  }
  await commitFiles(repo, { 'www/index.html': 'after-restart\n' });
  const r = await push(paas, repo, 'steady');
  assert.equal(r.exitCode, 0, r.output);
});
