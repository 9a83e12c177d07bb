import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { FormationService } from '../../../src/services/formation-service.js';
import { Captured } from '../fakes/deploy-fakes.js';
import { configService, deploySetup, liveApp } from '../fakes/services-setup.js';

const never = new AbortController().signal;

function services() {
  const s = deploySetup();
  const config = configService(s);
  const formation = new FormationService({
    formation: s.state.formation,
    releases: s.state.releases,
    settings: s.settings,
    rollout: s.rollout,
    locks: s.locks,
  });
  return { ...s, config, formation };
}

describe('ConfigService', () => {
  test('before the first deploy a change is stored and makes no release', async () => {
    const s = services();
    s.state.apps.create('a');
    const r = await s.config.change('a', { K: '1' }, [], { noRestart: false }, new Captured(), never);
    assert.deepEqual(r, { release: null, changed: ['K'], rolledOut: false });
    assert.deepEqual(s.config.all('a'), { K: '1' });
    assert.equal(s.state.releases.list('a').length, 0);
  });

  test('a change rolls out a new release with the same image; unchanged values make none', async () => {
    const s = services();
    await liveApp(s, 'a');
    const r = await s.config.change('a', { K: '1', L: '2' }, [], { noRestart: false }, new Captured(), never);
    assert.equal(r.release!.version, 2);
    assert.equal(r.rolledOut, true);
    assert.equal(s.state.releases.current('a')!.image, 'paas/a:v1');
    assert.deepEqual(s.runtime.specs.at(-1)!.env, { K: '1', L: '2' });
    const same = await s.config.change('a', { K: '1' }, ['NOPE'], { noRestart: false }, new Captured(), never);
    assert.deepEqual(same, { release: null, changed: [], rolledOut: false });
    const unset = await s.config.change('a', {}, ['L'], { noRestart: false }, new Captured(), never);
    assert.equal(unset.release!.description, 'Unset L');
    assert.deepEqual(s.config.all('a'), { K: '1' });
  });

  test('a rollout that fails leaves the stored config as it was', async () => {
    const s = services();
    await liveApp(s, 'a');
    s.proxy.refuse = 'unhealthy';
    await assert.rejects(s.config.change('a', { K: '1' }, [], { noRestart: false }, new Captured(), never), {
      code: 'PAAS_ERR_DEPLOY_UNHEALTHY',
    });
    assert.deepEqual(s.config.all('a'), {});
    assert.equal(s.state.releases.current('a')!.version, 1);
  });

  test('--no-restart records a pending release with the live image and app.json checks, and starts nothing', async () => {
    const s = services();
    await liveApp(s, 'a');
    const r = await s.config.change('a', { K: '1' }, [], { noRestart: true }, new Captured(), never);
    assert.equal(r.release!.status, 'pending');
    assert.equal(r.rolledOut, false);
    assert.deepEqual(s.runtime.calls, []);
    assert.deepEqual(s.config.all('a'), { K: '1' });
  });

  test('a change waits for the app lock and says who holds it', async () => {
    const s = services();
    await liveApp(s, 'a');
    let release!: () => void;
    const held = s.locks.withLock('a', 'a git push', () => new Promise<void>((r) => (release = r)));
    const out = new Captured();
    const pending = s.config.change('a', { K: '1' }, [], { noRestart: true }, out, never);
    await new Promise((r) => setImmediate(r));
    assert.equal(out.text, '-----> Waiting for a git push of a to finish\n');
    assert.deepEqual(s.config.all('a'), {}, 'nothing changes while the push holds the lock');
    release();
    await held;
    await pending;
    assert.deepEqual(s.config.all('a'), { K: '1' });
  });

  test('get of a key that is not set is one clear error', () => {
    const s = services();
    s.state.apps.create('a');
    assert.throws(() => s.config.get('a', 'K'), { code: 'PAAS_ERR_CONFIG_NOT_SET', message: "config var K is not set on 'a'" });
  });
});

describe('FormationService', () => {
  test('scale starts the extra replicas health-gated and records the formation on the live release', async () => {
    const s = services();
    await liveApp(s, 'a');
    const r = await s.formation.scale('a', ['web=3'], new Captured(), never);
    assert.deepEqual(r, { formation: { web: 3 }, applied: true, stopped: false });
    assert.deepEqual(s.runtime.running('a').sort(), ['a.web.1.v1', 'a.web.2.v1', 'a.web.3.v1']);
    assert.deepEqual(s.state.releases.current('a')!.formation, { web: 3 });
    assert.equal(s.proxy.deploys.at(-1)!.spec.targets.length, 3);
  });

  test('bad input is refused before anything changes: unknown type, over the cap, malformed', async () => {
    const s = services();
    await liveApp(s, 'a');
    await s.settings.write('a', 'max-replicas', 4);
    await assert.rejects(s.formation.scale('a', ['worker=1'], new Captured(), never), { code: 'PAAS_ERR_SCALE_PROCESS' });
    await assert.rejects(s.formation.scale('a', ['web=5'], new Captured(), never), { code: 'PAAS_ERR_SCALE_MAX' });
    await assert.rejects(s.formation.scale('a', ['web'], new Captured(), never), { code: 'PAAS_ERR_SCALE_MALFORMED' });
    assert.deepEqual(s.runtime.calls, []);
    assert.deepEqual(s.formation.formation('a'), { web: 1 });
  });

  test('a scale whose new replicas fail the health gate restores the previous formation', async () => {
    const s = services();
    await liveApp(s, 'a');
    s.proxy.refuse = 'unhealthy';
    await assert.rejects(s.formation.scale('a', ['web=2'], new Captured(), never), { code: 'PAAS_ERR_DEPLOY_UNHEALTHY' });
    assert.deepEqual(s.formation.formation('a'), { web: 1 });
    assert.deepEqual(s.runtime.running('a'), ['a.web.1.v1']);
  });

  test('before the first deploy the formation is stored; while stopped only the saved formation changes', async () => {
    const s = services();
    s.state.apps.create('b');
    assert.deepEqual(await s.formation.scale('b', ['web=2'], new Captured(), never), {
      formation: { web: 2 },
      applied: false,
      stopped: false,
    });
    assert.deepEqual(s.formation.formation('b'), { web: 2 });
    await liveApp(s, 'a');
    s.settings.write('a', 'stopped', { web: 1 });
    s.state.formation.replace('a', { web: 0 });
    const r = await s.formation.scale('a', ['web=2'], new Captured(), never);
    assert.deepEqual(r, { formation: { web: 2 }, applied: false, stopped: true });
    assert.deepEqual(s.settings.get('a', 'stopped'), { web: 2 });
    assert.deepEqual(s.runtime.calls, []);
  });
});
