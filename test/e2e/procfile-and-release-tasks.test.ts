import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { busyboxApp, commitFiles, push, viaProxy } from '../helpers/app-repo.js';
import { ensureBusyboxImage } from '../helpers/base-images.js';
import { requireDocker, runningReplicas } from '../helpers/docker.js';
import { PaasServer } from '../helpers/paas-server.js';

let paas: PaasServer;
let repo: string;

before(async () => {
  await requireDocker();
  await ensureBusyboxImage();
  paas = await new PaasServer().start();
  repo = path.join(paas.dataDir, 'work', 'procs');
});
after(async () => {
  await paas?.destroy();
});

const running = (app: string) => runningReplicas(paas.labels, app);

test('Procfile types and app.json formation start on the first deploy; the release task runs before the cutover', async () => {
  await commitFiles(
    repo,
    busyboxApp('procs-v1', {
      Procfile: [
        'web: httpd -f -p $PORT -h /www',
        "worker: sh -c 'while true; do echo working; sleep 1; done'",
        "release: sh -c 'echo migrating the database'",
      ].join('\n'),
      'app.json': JSON.stringify({
        formation: { web: { quantity: 2 }, worker: { quantity: 1 } },
        healthchecks: { web: [{ path: '/', attempts: 30 }] },
        scripts: { dokku: { postdeploy: "sh -c 'echo post-deploy-hook ran'" } },
      }),
    }),
  );
  const r = await push(paas, repo, 'procs');
  assert.equal(r.exitCode, 0, r.output);
  assert.match(r.output, /Running release task: sh -c 'echo migrating the database'/);
  assert.match(r.output, /remote: migrating the database/);
  assert.match(r.output, /remote: post-deploy-hook ran/);
  assert.ok(r.output.indexOf('migrating the database') < r.output.indexOf('Starting web=2 worker=1'), 'release task before the rollout');
  assert.deepEqual(await running('procs'), ['web@v1', 'web@v1', 'worker@v1']);
  assert.equal((await viaProxy(paas, 'procs.paas.test')).body, 'procs-v1\n');
  const logs = await paas.ssh('logs procs -p worker -n 5');
  assert.match(logs.stdout, /worker\.1.*working/);
});

test('a failing release task aborts the deploy: the push fails, the old release keeps serving, nothing new runs', async () => {
  await commitFiles(repo, {
    'www/index.html': 'procs-v2\n',
    Procfile: ['web: httpd -f -p $PORT -h /www', "release: sh -c 'echo migration exploded; exit 4'"].join('\n'),
  });
  const r = await push(paas, repo, 'procs');
  assert.equal(r.exitCode, 1, r.output);
  assert.match(r.output, /migration exploded/);
  assert.match(r.output, /release task exited with code 4/);
  assert.match(r.output, /v1 keeps serving/);
  assert.equal((await viaProxy(paas, 'procs.paas.test')).body, 'procs-v1\n');
  assert.deepEqual(await running('procs'), ['web@v1', 'web@v1', 'worker@v1']);
});
