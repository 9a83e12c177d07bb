import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { StageOutput } from '../../src/deploy/stage-output.js';
import { Captured } from './fakes/deploy-fakes.js';
import { deploySetup, liveApp } from './fakes/services-setup.js';

const never = new AbortController().signal;

describe('ReleaseManager', () => {
  test('the release task runs before any container starts; its failure aborts with nothing started and v1 live', async () => {
    const s = deploySetup();
    await liveApp(s, 'a');
    const r = s.state.releases.create({ ...s.state.releases.current('a')!, description: 'd', status: 'deploying' });
    s.runtime.taskExit.set('migrate', 3);
    const out = new Captured();
    await assert.rejects(s.releases.activate('a', r, new StageOutput(out), never, { releaseTask: 'migrate', postdeploy: null }), {
      code: 'PAAS_ERR_DEPLOY_RELEASE_TASK',
      message: 'the release task exited with code 3',
    });
    assert.deepEqual(s.runtime.calls, ['task migrate']);
    assert.equal(s.state.releases.current('a')!.version, 1);
    assert.match(out.text, /-----> Running release task: migrate\nran migrate\n/);
  });

  test('activate marks the release live (the previous one superseded) and runs postdeploy after the cutover', async () => {
    const s = deploySetup();
    await liveApp(s, 'a');
    const r = s.state.releases.create({ ...s.state.releases.current('a')!, description: 'd', status: 'deploying' });
    s.runtime.taskExit.set('notify', 1);
    const out = new Captured();
    await s.releases.activate('a', r, new StageOutput(out), never, { releaseTask: 'migrate', postdeploy: 'notify' });
    assert.deepEqual(s.runtime.calls, ['task migrate', 'start a.web.1.v2', 'stop a.web.1.v1', 'task notify']);
    assert.equal(s.state.releases.current('a')!.version, 2);
    assert.equal(s.state.releases.get('a', 1)!.status, 'superseded');
    assert.match(out.text, /postdeploy exited with code 1 \(the release stays live\)/);
  });

  test('derive makes a new release from the live one; a failed rollout marks it failed and keeps the old live', async () => {
    const s = deploySetup();
    const v1 = await liveApp(s, 'a');
    s.proxy.refuse = 'unhealthy';
    await assert.rejects(s.releases.derive('a', v1, { config: { K: '1' } }, 'Set K', new StageOutput(new Captured()), never), {
      code: 'PAAS_ERR_DEPLOY_UNHEALTHY',
    });
    assert.equal(s.state.releases.get('a', 2)!.status, 'failed');
    assert.deepEqual(s.state.releases.get('a', 2)!.config, { K: '1' });
    assert.equal(s.state.releases.current('a')!.version, 1);
    assert.deepEqual(s.runtime.running('a'), ['a.web.1.v1']);
  });

  test('prune keeps the images of the newest five releases', async () => {
    const s = deploySetup();
    const v1 = await liveApp(s, 'a');
    for (let v = 2; v <= 7; v++) s.state.releases.create({ ...v1, image: `paas/a:v${v}`, description: `v${v}`, status: 'superseded' });
    await s.releases.prune('a');
    assert.deepEqual(s.runtime.removedImages.sort(), ['paas/a:v1', 'paas/a:v2']);
  });
});
