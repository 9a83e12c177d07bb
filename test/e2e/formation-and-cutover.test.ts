import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { busyboxApp, commitFiles, push, remoteSha, viaProxy } from '../helpers/app-repo.js';
import { ensureBusyboxImage } from '../helpers/base-images.js';
import { requireDocker, runningReplicas } from '../helpers/docker.js';
import { PaasServer } from '../helpers/paas-server.js';

// Formation as Dokku keeps it (ps:scale before the first push, app.json formation as the source
// of truth) and the fast cutover (switch when the port listens, previous release warm for the
// stability window, switch back when a new container dies, a hint for a web that never listens).

let paas: PaasServer;
const work = (name: string) => path.join(paas.dataDir, 'work', name);

before(async () => {
  await requireDocker();
  await ensureBusyboxImage();
  paas = await new PaasServer().start();
});
after(async () => {
  await paas?.destroy();
});

const running = (app: string) => runningReplicas(paas.labels, app);

const WORKER = "worker: sh -c 'while true; do sleep 1; done'";

test('ps:scale before the first push is what the first deploy runs', async () => {
  assert.equal((await paas.ssh('apps:create early')).exitCode, 0);
  const s = await paas.ssh('ps:scale early web=2 worker=2');
  assert.equal(s.exitCode, 0, s.stderr);
  assert.match(s.stdout, /Formation of early set to web=2 worker=2 \(applies at the first deploy\)/);
  const repo = work('early');
  await commitFiles(repo, busyboxApp('early', { Procfile: ['web: httpd -f -p $PORT -h /www', WORKER].join('\n') }));
  const r = await push(paas, repo, 'early');
  assert.equal(r.exitCode, 0, r.output);
  assert.match(r.output, /Starting web=2 worker=2/);
  assert.deepEqual(await running('early'), ['web@v1', 'web@v1', 'worker@v1', 'worker@v1']);
});

test('app.json formation is the source of truth at every deploy: ps:scale of its types is refused, ps:report says can-scale false', async () => {
  const repo = work('formed');
  const files = (formation: Record<string, { quantity: number }> | null) =>
    busyboxApp('formed', {
      Procfile: ['web: httpd -f -p $PORT -h /www', WORKER, "clock: sh -c 'while true; do sleep 1; done'"].join('\n'),
      'app.json': JSON.stringify(formation ? { formation } : {}),
    });
  await commitFiles(repo, files({ web: { quantity: 2 }, worker: { quantity: 1 } }));
  let r = await push(paas, repo, 'formed');
  assert.equal(r.exitCode, 0, r.output);
  assert.deepEqual(await running('formed'), ['web@v1', 'web@v1', 'worker@v1']);

  const refused = await paas.ssh('ps:scale formed web=3 clock=1');
  assert.notEqual(refused.exitCode, 0);
  assert.equal(refused.stderr.trim().split('\n').length, 1, refused.stderr);
  assert.match(refused.stderr, /web is set by app\.json formation \(web, worker\): change app\.json and push; nothing was changed/);
  assert.deepEqual(await running('formed'), ['web@v1', 'web@v1', 'worker@v1'], 'nothing changed, clock included');
  const report = await paas.ssh('ps:report formed');
  assert.match(report.stdout, /^can-scale false \(app\.json formation sets web, worker\)$/m);
  const json = JSON.parse((await paas.ssh('ps:report formed --json')).stdout);
  assert.equal(json.canScale, false);
  assert.deepEqual(json.fixedBy, ['web', 'worker']);
  // a type app.json does not name still scales
  const clock = await paas.ssh('ps:scale formed clock=1');
  assert.equal(clock.exitCode, 0, clock.stderr);
  assert.deepEqual(await running('formed'), ['clock@v1', 'web@v1', 'web@v1', 'worker@v1']);

  // the next deploy applies app.json again; ps:scale's clock=1 is kept
  await commitFiles(repo, files({ web: { quantity: 1 }, worker: { quantity: 2 } }));
  r = await push(paas, repo, 'formed');
  assert.equal(r.exitCode, 0, r.output);
  assert.deepEqual(await running('formed'), ['clock@v2', 'web@v2', 'worker@v2', 'worker@v2']);

  // without a formation in app.json, ps:scale decides again
  await commitFiles(repo, files(null));
  r = await push(paas, repo, 'formed');
  assert.equal(r.exitCode, 0, r.output);
  assert.match((await paas.ssh('ps:report formed')).stdout, /^can-scale true$/m);
  const scaled = await paas.ssh('ps:scale formed web=2');
  assert.equal(scaled.exitCode, 0, scaled.stderr);

  // a rollback to a release pushed with a formation brings that release's lock back with it,
  // and rolling forward past it lifts the lock again
  const back = await paas.ssh('releases:rollback formed v2');
  assert.equal(back.exitCode, 0, back.stderr);
  assert.match((await paas.ssh('ps:report formed')).stdout, /^can-scale false \(app\.json formation sets web, worker\)$/m);
  const locked = await paas.ssh('ps:scale formed web=3');
  assert.notEqual(locked.exitCode, 0);
  assert.match(locked.stderr, /web is set by app\.json formation/);
  const forward = await paas.ssh('releases:rollback formed v3');
  assert.equal(forward.exitCode, 0, forward.stderr);
  assert.match((await paas.ssh('ps:report formed')).stdout, /^can-scale true$/m);
});

test('a web process that never listens fails after 20 s of refused connections with the worker: hint', async () => {
  const repo = work('deaf');
  await commitFiles(repo, busyboxApp('deaf', { Procfile: "web: sh -c 'echo doing background work; sleep 3600'" }));
  const r = await push(paas, repo, 'deaf');
  assert.equal(r.exitCode, 1, r.output);
  assert.match(
    r.output,
    /nothing listens on port 5000 \(PORT\) after 20 s up; a background process belongs under another Procfile name such as worker:/,
  );
  assert.match(r.output, /doing background work/, 'with the container log');
  assert.doesNotMatch(r.output, /did not become healthy/, 'not the deploy timeout');
  assert.deepEqual(await running('deaf'), []);
  assert.equal(await remoteSha(paas, 'deaf'), null);
});

test('a new container dying within the stability window sends traffic back and rejects the push; so does a worker crashing at start', async () => {
  const repo = work('flaky');
  const v1 = await commitFiles(repo, busyboxApp('flaky-v1', { Procfile: ['web: httpd -f -p $PORT -h /www', WORKER].join('\n') }));
  let r = await push(paas, repo, 'flaky');
  assert.equal(r.exitCode, 0, r.output);
  assert.equal((await paas.ssh('ps:scale flaky worker=1')).exitCode, 0);
  assert.equal((await paas.ssh('checks:set flaky wait=8')).exitCode, 0);

  // v2's web listens at once (so it gets the traffic), then dies 3 s later: well after the switch
  // (about 30 ms after it listens, longer on a loaded machine), well within the 8 s window
  await commitFiles(repo, {
    'www/index.html': 'flaky-v2\n',
    Procfile: ["web: sh -c 'httpd -p $PORT -h /www; sleep 3; echo web gives up; exit 3'", WORKER].join('\n'),
  });
  r = await push(paas, repo, 'flaky');
  assert.equal(r.exitCode, 1, r.output);
  assert.match(r.output, /traffic switched/);
  assert.match(r.output, /Watching 2 new container\(s\) for 8 s \(the previous 1 web container\(s\) stay warm\)/);
  assert.match(r.output, /flaky\.web\.1\.v2\.\w+: container .* exited/);
  assert.match(r.output, /web gives up/);
  assert.match(r.output, /Switching traffic back to the previous 1 web container\(s\)/);
  assert.equal((await viaProxy(paas, 'flaky.paas.test')).body, 'flaky-v1\n');
  assert.deepEqual(await running('flaky'), ['web@v1', 'worker@v1']);
  assert.equal(await remoteSha(paas, 'flaky'), v1);

  // a worker that crashes at start: nothing half-deployed stays live
  await commitFiles(repo, {
    'www/index.html': 'flaky-v3\n',
    Procfile: ['web: httpd -f -p $PORT -h /www', "worker: sh -c 'echo worker cannot reach the queue; exit 5'"].join('\n'),
  });
  r = await push(paas, repo, 'flaky');
  assert.equal(r.exitCode, 1, r.output);
  assert.match(r.output, /flaky\.worker\.1\.v3\.\w+: container .* exited/);
  assert.match(r.output, /worker cannot reach the queue/);
  assert.equal((await viaProxy(paas, 'flaky.paas.test')).body, 'flaky-v1\n');
  assert.deepEqual(await running('flaky'), ['web@v1', 'worker@v1']);
  assert.equal(await remoteSha(paas, 'flaky'), v1);
});

test('checks:set wait= takes whole seconds; anything else is refused with one line and nothing changes', async () => {
  assert.equal((await paas.ssh('apps:create waits')).exitCode, 0);
  for (const bad of ['wait=-1', 'wait=abc', 'wait=1.5', 'wait=']) {
    const r = await paas.ssh(`checks:set waits ${bad}`);
    assert.notEqual(r.exitCode, 0, bad);
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
  }
  const ok = await paas.ssh('checks:set waits wait=7 --json');
  assert.equal(ok.exitCode, 0, ok.stderr);
  assert.equal(JSON.parse(ok.stdout).wait, 7);
});
