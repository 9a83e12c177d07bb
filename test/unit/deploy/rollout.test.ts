import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Rollout } from '../../../src/deploy/rollout.js';
import { StageOutput } from '../../../src/deploy/stage-output.js';
import { silentLogger } from '../../../src/log/logger.js';
import { Captured, FakeProxy, FakeRuntime, FakeStore, release } from '../fakes/deploy-fakes.js';

function setup() {
  const runtime = new FakeRuntime();
  const proxy = new FakeProxy();
  const store = new FakeStore();
  const rollout = new Rollout(store, runtime, proxy, silentLogger());
  const out = new Captured();
  return { runtime, proxy, store, rollout, out, stage: new StageOutput(out) };
}
const never = new AbortController().signal;

describe('Rollout', () => {
  test('release starts the replicas in formation order, health-gates the web ones through the proxy, then retires the old', async () => {
    const { runtime, proxy, store, rollout, stage } = setup();
    store.stored = { checks: JSON.stringify({ path: '/up' }) };
    const old = await runtime.start({ app: 'a', process: 'web', release: 1, replica: 1, image: 'i', env: {}, port: 5000 });
    runtime.calls.length = 0;
    const r = release('a', 2, { formation: { web: 2, worker: 1 }, processes: { web: null, worker: 'run-worker' }, config: { K: 'v' } });
    store.releases.set('a', r);
    await rollout.release('a', r, stage, never);
    assert.deepEqual(runtime.calls, ['start a.web.1.v2', 'start a.web.2.v2', 'start a.worker.1.v2', `stop ${old.name}`]);
    assert.equal(proxy.deploys.length, 1);
    assert.deepEqual(proxy.deploys[0]!.spec.targets, ['10.0.0.2:5000', '10.0.0.3:5000']);
    assert.deepEqual(proxy.deploys[0]!.spec.hosts, ['a.example.test']);
    assert.equal(proxy.deploys[0]!.spec.healthCheck.path, '/up');
    assert.equal(runtime.specs.at(-1)!.command, 'run-worker');
    assert.deepEqual(runtime.specs.at(-1)!.env, { K: 'v' });
  });

  test('a failed health gate removes the new containers and leaves the old ones serving', async () => {
    const { runtime, proxy, store, rollout, stage } = setup();
    await runtime.start({ app: 'a', process: 'web', release: 1, replica: 1, image: 'i', env: {}, port: 5000 });
    proxy.refuse = 'target 10.0.0.2:5000 never became healthy';
    const r = release('a', 2);
    store.releases.set('a', r);
    await assert.rejects(rollout.release('a', r, stage, never), (e: Error & { code?: string }) => {
      assert.equal(e.code, 'PAAS_ERR_DEPLOY_UNHEALTHY');
      assert.match(e.message, /never became healthy/);
      assert.match(e.message, /Last 20 log lines of a\.web\.1\.v2:\nboom/);
      return true;
    });
    assert.deepEqual(runtime.running('a'), ['a.web.1.v1']);
  });

  test('a web container that dies before it has an address fails as a crash, not as a port timeout', async () => {
    const { runtime, proxy, store, rollout, stage } = setup();
    runtime.addressless.add('a.web.1.v2');
    runtime.crashAfter.set('a.web.1.v2', 50);
    const r = release('a', 2);
    store.releases.set('a', r);
    await assert.rejects(rollout.release('a', r, stage, never), { code: 'PAAS_ERR_DEPLOY_CRASHED' });
    assert.equal(proxy.deploys.length, 0);
    assert.deepEqual(runtime.running('a'), []);
  });

  test('a container that crashes at start fails the rollout before any traffic moves', async () => {
    const { runtime, proxy, store, rollout, stage } = setup();
    runtime.crashing.add('a.worker.1.v2');
    const r = release('a', 2, { formation: { web: 1, worker: 1 } });
    store.releases.set('a', r);
    await assert.rejects(rollout.release('a', r, stage, never), { code: 'PAAS_ERR_DEPLOY_CRASHED' });
    assert.equal(proxy.deploys.length, 0);
    assert.deepEqual(runtime.running('a'), []);
  });

  test('traffic switches as soon as the new web listens; a new container dying in the stability window sends it back and fails', async () => {
    const { runtime, proxy, store, rollout, stage, out } = setup();
    await runtime.start({ app: 'a', process: 'web', release: 1, replica: 1, image: 'i', env: {}, port: 5000 });
    runtime.calls.length = 0;
    store.stored = { checks: JSON.stringify({ wait: 1 }) };
    runtime.crashAfter.set('a.worker.1.v2', 300);
    const r = release('a', 2, { formation: { web: 1, worker: 1 } });
    store.releases.set('a', r);
    await assert.rejects(rollout.release('a', r, stage, never), {
      code: 'PAAS_ERR_DEPLOY_CRASHED',
      message: /a\.worker\.1\.v2: .*exit code 2/,
    });
    assert.deepEqual(
      proxy.deploys.map((d) => d.spec.targets),
      [['10.0.0.2:5000'], ['10.0.0.1:5000']],
    );
    assert.deepEqual(runtime.running('a'), ['a.web.1.v1']);
    assert.match(out.text, /Watching 2 new container\(s\) for 1 s \(the previous 1 web container\(s\) stay warm\)/);
  });

  test('a web container whose port only refuses fails with the worker: hint and never gets traffic', async () => {
    const { runtime, proxy, store, rollout, stage } = setup();
    runtime.deaf.add('a.web.1.v2');
    const r = release('a', 2);
    store.releases.set('a', r);
    await assert.rejects(rollout.release('a', r, stage, never), {
      code: 'PAAS_ERR_DEPLOY_NOT_LISTENING',
      message:
        /^a\.web\.1\.v2: nothing listens on port 5000 \(PORT\) after 20 s up; a background process belongs under another Procfile name such as worker:\nLast 20 log lines/,
    });
    assert.equal(proxy.deploys.length, 0);
    assert.deepEqual(runtime.running('a'), []);
  });

  test('a failure in the window of a first deploy takes the routes away again', async () => {
    const { runtime, proxy, store, rollout, stage } = setup();
    const r = release('a', 1);
    store.releases.set('a', r);
    const failing = async () => {
      throw new Error('postdeploy failed');
    };
    await assert.rejects(rollout.release('a', r, stage, never, failing), /postdeploy failed/);
    assert.equal(proxy.deploys.length, 1);
    assert.deepEqual(proxy.removed, ['a']);
    assert.deepEqual(runtime.running('a'), []);
  });

  test('a rollout reads the settings once, so a change landing mid-rollout cannot mix them', async () => {
    const { runtime, proxy, store, rollout, stage } = setup();
    store.stored = { resources: JSON.stringify({ '*': { memoryBytes: 64 * 1024 * 1024 } }), checks: JSON.stringify({ path: '/up' }) };
    proxy.onDeploy = () => {
      store.stored = { resources: JSON.stringify({ '*': { memoryBytes: 128 * 1024 * 1024 } }) };
    };
    const r = release('a', 2, { formation: { web: 3 } });
    store.releases.set('a', r);
    await rollout.release('a', r, stage, never);
    assert.equal(store.settingsReads, 1);
    assert.deepEqual(
      runtime.specs.map((s) => s.memoryBytes),
      [64 * 1024 * 1024, 64 * 1024 * 1024, 64 * 1024 * 1024],
    );
  });

  test('converge adds missing replicas, removes extras and strays, and keeps the others routed', async () => {
    const { runtime, proxy, store, rollout } = setup();
    const r = release('a', 3);
    store.releases.set('a', r);
    store.stored = { checks: JSON.stringify({ path: '/up' }) };
    await runtime.start({ app: 'a', process: 'web', release: 3, replica: 1, image: 'i', env: {}, port: 5000 });
    await runtime.start({ app: 'a', process: 'worker', release: 3, replica: 1, image: 'i', env: {}, port: 5000 });
    await runtime.start({ app: 'a', process: 'web', release: 2, replica: 1, image: 'i', env: {}, port: 5000 });
    runtime.calls.length = 0;
    store.formations.set('a', { web: 2, worker: 0 });
    const { added, removed } = await rollout.converge('a', null, never);
    assert.deepEqual(
      added.map((c) => c.name),
      ['a.web.2.v3'],
    );
    assert.deepEqual(
      removed.map((c) => c.name),
      ['a.worker.1.v3'],
    );
    assert.deepEqual(proxy.deploys.at(-1)!.spec.targets, ['10.0.0.1:5000', '10.0.0.4:5000']);
    assert.deepEqual(runtime.running('a').sort(), ['a.web.1.v3', 'a.web.2.v3']);
  });

  test('converge to no web containers takes the app out of the proxy', async () => {
    const { runtime, proxy, store, rollout } = setup();
    store.releases.set('a', release('a', 1));
    await runtime.start({ app: 'a', process: 'web', release: 1, replica: 1, image: 'i', env: {}, port: 5000 });
    store.formations.set('a', { web: 0 });
    await rollout.converge('a', null, never);
    assert.deepEqual(proxy.removed, ['a']);
    assert.deepEqual(runtime.running('a'), []);
  });

  test('a cancelled rollout starts nothing more and removes what it started', async () => {
    const { runtime, proxy, store, rollout, stage } = setup();
    const ac = new AbortController();
    ac.abort();
    const r = release('a', 2);
    store.releases.set('a', r);
    await assert.rejects(rollout.release('a', r, stage, ac.signal), { code: 'PAAS_ERR_DEPLOY_CANCELLED' });
    assert.deepEqual(runtime.calls, []);
    assert.equal(proxy.deploys.length, 0);
  });

  test('checks: defaults, then the release app.json, then checks:set', () => {
    const { store, rollout } = setup();
    assert.deepEqual(rollout.checks('a', undefined), { path: null, timeout: 5, attempts: 60, wait: 2 });
    const r = release('a', 1, { appChecks: { path: '/health', attempts: 5 } });
    store.stored = { checks: JSON.stringify({ attempts: 9 }) };
    assert.deepEqual(rollout.checks('a', r), { path: '/health', timeout: 5, attempts: 9, wait: 2 });
  });
});
