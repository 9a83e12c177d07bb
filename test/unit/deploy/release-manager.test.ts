import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { StageOutput } from '../../../src/deploy/stage-output.js';
import { Captured } from '../fakes/deploy-fakes.js';
import { deploySetup, liveApp } from '../fakes/services-setup.js';

const never = new AbortController().signal;

describe('ReleaseManager', () => {
  test('predeploy (committed into the release image) then the release task run before any container starts; a failure aborts with nothing started and v1 live', async () => {
    const s = deploySetup();
    await liveApp(s, 'a');
    const r = s.state.releases.create({ ...s.state.releases.current('a')!, image: 'other/tag:1', description: 'd', status: 'deploying' });
    s.runtime.taskExit.set('migrate', 3);
    const out = new Captured();
    const hooks = { predeploy: 'collect', release: 'migrate', postdeploy: null, firstDeploy: null };
    await assert.rejects(s.releases.activate('a', r, new StageOutput(out), never, hooks), {
      code: 'PAAS_ERR_DEPLOY_RELEASE_TASK',
      message: 'release task exited with code 3\nlast lines of its output:\nran migrate',
    });
    assert.deepEqual(s.runtime.calls, ['task collect -> paas/a:v2', 'task migrate']);
    assert.equal(s.state.releases.get('a', 2)!.image, 'paas/a:v2', 'the release runs the committed image');
    assert.equal(s.state.releases.current('a')!.version, 1);
    assert.match(
      out.text,
      /-----> Running predeploy: collect\nran collect\n {7}filesystem changes committed into paas\/a:v2\n-----> Running release task: migrate\nran migrate\n/,
    );
  });

  test('postdeploy runs after the switch while v1 is warm, then v1 retires', async () => {
    const s = deploySetup();
    await liveApp(s, 'a');
    const r = s.state.releases.create({ ...s.state.releases.current('a')!, description: 'd', status: 'deploying' });
    const out = new Captured();
    await s.releases.activate('a', r, new StageOutput(out), never, {
      predeploy: null,
      release: null,
      postdeploy: 'notify',
      firstDeploy: 'seed',
    });
    assert.deepEqual(s.runtime.calls, ['start a.web.1.v2', 'task notify', 'task seed', 'stop a.web.1.v1']);
    assert.equal(s.state.releases.current('a')!.version, 2);
    assert.equal(s.state.releases.get('a', 1)!.status, 'superseded');
    assert.match(out.text, /Running postdeploy \(first deploy\): seed/);
  });

  test('a failing postdeploy switches traffic back to v1, removes v2 and fails with its output', async () => {
    const s = deploySetup();
    await liveApp(s, 'a');
    const r = s.state.releases.create({ ...s.state.releases.current('a')!, description: 'd', status: 'deploying' });
    s.runtime.taskExit.set('notify', 1);
    const out = new Captured();
    const deploysBefore = s.proxy.deploys.length;
    await assert.rejects(
      s.releases.activate('a', r, new StageOutput(out), never, { predeploy: null, release: null, postdeploy: 'notify', firstDeploy: null }),
      { code: 'PAAS_ERR_DEPLOY_RELEASE_TASK', message: /^postdeploy exited with code 1\nlast lines of its output:\nran notify$/ },
    );
    assert.deepEqual(s.runtime.calls, ['start a.web.1.v2', 'task notify', 'stop a.web.1.v2']);
    const routed = s.proxy.deploys.slice(deploysBefore).map((d) => d.spec.targets);
    assert.deepEqual(routed, [['10.0.0.2:5000'], ['10.0.0.1:5000']], 'switched to v2, then back to v1');
    assert.equal(s.state.releases.current('a')!.version, 1);
    assert.deepEqual(s.runtime.running('a'), ['a.web.1.v1']);
    assert.match(out.text, /-----> Switching traffic back to the previous 1 web container\(s\)/);
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
