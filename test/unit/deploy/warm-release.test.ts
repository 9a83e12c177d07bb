import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { StageOutput } from '../../../src/deploy/stage-output.js';
import { DEFAULT_KEEP_WARM_MS, KEEP_WARM_GLOBAL_KEY } from '../../../src/deploy/warm-release.js';
import { formatKeepWarm, parseKeepWarm } from '../../../src/services/release-service.js';
import { Captured } from '../fakes/deploy-fakes.js';
import { deploySetup, liveApp, releaseService } from '../fakes/services-setup.js';

const signal = () => new AbortController().signal;

/** v1 live, then v2 (another image) pushed: v1 is warm unless keep-warm says otherwise. */
async function setup(keepWarm = true) {
  const s = deploySetup({ keepWarm });
  const service = releaseService(s);
  await liveApp(s, 'a');
  s.runtime.images.add('paas/a:v2');
  const out = new Captured();
  await s.releases.derive('a', s.state.releases.current('a')!, { image: 'paas/a:v2' }, 'Deploy v2', new StageOutput(out), signal());
  return { ...s, service, deployOut: out.text };
}
type S = Awaited<ReturnType<typeof setup>>;

const byRelease = (s: S) => [...s.runtime.containers.values()].map((c) => `${c.process}.${c.replica}.v${c.release}:${c.state}`).sort();
const lastTargets = (s: S) => s.proxy.deploys.at(-1)!.spec.targets;

describe('keeping the previous release warm', () => {
  test('a deploy pauses the previous web containers after the switch instead of stopping them, and records the window', async () => {
    const s = await setup();
    assert.deepEqual(byRelease(s), ['web.1.v1:paused', 'web.1.v2:running']);
    assert.ok(s.runtime.calls.includes('pause a.web.1.v1'));
    assert.ok(!s.runtime.calls.some((c) => c.startsWith('stop a.web.1.v1')));
    const w = s.warm.current('a')!;
    assert.equal(w.release, 1);
    assert.ok(Math.abs(w.until - (Date.now() + DEFAULT_KEEP_WARM_MS)) < 5000);
    assert.match(s.deployOut, /v1 stays warm \(1 paused web container\(s\)\) until \d\d:\d\d:\d\d UTC/);
    // the warm container is no target of the proxy
    const v1 = [...s.runtime.containers.values()].find((c) => c.release === 1)!;
    assert.ok(!lastTargets(s).includes(`${v1.ip}:${v1.port}`));
  });

  test('keep-warm 0 stops the previous release as before', async () => {
    const s = await setup(false);
    assert.deepEqual(byRelease(s), ['web.1.v2:running']);
    assert.equal(s.warm.current('a'), null);
  });

  test('a rollback inside the window thaws the warm containers, starts none, and keeps the rolled-away release warm', async () => {
    const s = await setup();
    const v1 = [...s.runtime.containers.values()].find((c) => c.release === 1)!;
    s.runtime.calls.length = 0;
    const out = new Captured();
    const r = await s.service.rollback('a', null, out, signal());
    assert.equal(r.release.version, 3);
    assert.ok(!s.runtime.calls.some((c) => c.startsWith('start')), s.runtime.calls.join('\n'));
    assert.deepEqual(s.runtime.calls, ['unpause a.web.1.v1', 'pause a.web.1.v2']);
    assert.deepEqual(lastTargets(s), [`${v1.ip}:${v1.port}`]);
    assert.match(out.text, /1 warm web container\(s\) of v1 thawed/);
    assert.equal(s.warm.current('a')!.release, 2);
    // the thawed v1 container serves live v3: convergence counts it and starts nothing
    const conv = await s.rollout.converge('a', null, signal());
    assert.deepEqual([conv.added.length, conv.removed.length], [0, 0]);
    assert.deepEqual(byRelease(s), ['web.1.v1:running', 'web.1.v2:paused']);
    // and rolling back again is instant too (v2 is warm)
    s.runtime.calls.length = 0;
    await s.service.rollback('a', 2, new Captured(), signal());
    assert.deepEqual(s.runtime.calls, ['unpause a.web.1.v2', 'pause a.web.1.v1']);
  });

  test('convergence neither counts nor removes warm containers inside the window, and removes them after it', async () => {
    const s = await setup();
    let conv = await s.rollout.converge('a', null, signal());
    assert.deepEqual([conv.added.length, conv.removed.length], [0, 0]);
    assert.deepEqual(byRelease(s), ['web.1.v1:paused', 'web.1.v2:running']);
    const w = s.warm.current('a')!;
    s.settings.write('a', 'warm', { ...w, until: Date.now() - 1 });
    conv = await s.rollout.converge('a', null, signal());
    assert.deepEqual(byRelease(s), ['web.1.v2:running']);
    assert.equal(s.settings.get('a', 'warm'), null);
  });

  test('a warm container that is no longer paused (restarted by the engine) ends the warm release', async () => {
    const s = await setup();
    const v1 = [...s.runtime.containers.values()].find((c) => c.release === 1)!;
    v1.state = 'running';
    await s.rollout.converge('a', null, signal());
    assert.deepEqual(byRelease(s), ['web.1.v2:running']);
    assert.equal(s.settings.get('a', 'warm'), null);
  });

  test('outside the window a rollback starts containers as today and says why', async () => {
    const s = await setup();
    const w = s.warm.current('a')!;
    s.settings.write('a', 'warm', { ...w, until: Date.now() - 1 });
    s.runtime.calls.length = 0;
    const out = new Captured();
    await s.service.rollback('a', null, out, signal());
    assert.ok(s.runtime.calls.includes('start a.web.1.v3'), s.runtime.calls.join('\n'));
    assert.match(out.text, /the window of v1 has ended: starting containers/);
    assert.ok(s.runtime.calls.includes('stop a.web.1.v1'));
  });

  test('a warm container that crashes when thawed falls back to starting containers', async () => {
    const s = await setup();
    const v1 = [...s.runtime.containers.values()].find((c) => c.release === 1)!;
    s.runtime.crashing.add(v1.name);
    const out = new Captured();
    await s.service.rollback('a', null, out, signal());
    assert.match(out.text, /the warm containers failed .*: starting containers/);
    assert.ok(s.runtime.calls.includes('start a.web.1.v3'));
    assert.deepEqual(byRelease(s), ['web.1.v2:paused', 'web.1.v3:running']);
  });

  test('a rollback to a release other than the warm one starts containers', async () => {
    const s = await setup();
    s.runtime.images.add('paas/a:v3');
    await s.releases.derive(
      'a',
      s.state.releases.current('a')!,
      { image: 'paas/a:v3' },
      'Deploy v3',
      new StageOutput(new Captured()),
      signal(),
    );
    // v2 is warm now; roll back to v1
    const out = new Captured();
    s.runtime.calls.length = 0;
    await s.service.rollback('a', 1, out, signal());
    assert.match(out.text, /v2 is warm, not this release: starting containers/);
    assert.ok(s.runtime.calls.includes('start a.web.1.v4'));
    assert.equal(s.warm.current('a')!.release, 3);
  });

  test('keep-warm 0 ends the current window; bad values are refused and change nothing', async () => {
    const s = await setup();
    for (const bad of ['abc', '-1', '25h', '', '1.5m']) {
      await assert.rejects(s.service.setKeepWarm('a', bad, new Captured(), signal()), { code: 'PAAS_ERR_RELEASES_SETTING' });
    }
    assert.throws(() => s.service.setGlobalKeepWarm('x'), { code: 'PAAS_ERR_RELEASES_SETTING' });
    assert.equal(s.settings.get('a', 'keep-warm'), null);
    assert.equal(s.warm.current('a')!.release, 1);
    assert.equal(await s.service.setKeepWarm('a', '0', new Captured(), signal()), 0);
    assert.equal(s.warm.current('a'), null);
    await s.rollout.converge('a', null, signal());
    assert.deepEqual(byRelease(s), ['web.1.v2:running']);
  });

  test('the window: the app setting, else the global one, else 10m', async () => {
    const s = await setup();
    assert.equal(s.warm.keepWarmMs('a'), DEFAULT_KEEP_WARM_MS);
    s.service.setGlobalKeepWarm('30m');
    assert.equal(s.state.settings.get(KEEP_WARM_GLOBAL_KEY), String(30 * 60_000));
    assert.equal(s.warm.keepWarmMs('a'), 30 * 60_000);
    await s.service.setKeepWarm('a', '90s', new Captured(), signal());
    assert.equal(s.warm.keepWarmMs('a'), 90_000);
  });

  test('durations', () => {
    assert.equal(parseKeepWarm('10m'), 600_000);
    assert.equal(parseKeepWarm('0'), 0);
    assert.equal(parseKeepWarm('24h'), 24 * 3_600_000);
    assert.equal(formatKeepWarm(600_000), '10m');
    assert.equal(formatKeepWarm(90_000), '90s');
    assert.equal(formatKeepWarm(0), '0 (off)');
  });
});
