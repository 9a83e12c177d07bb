// A derived release (config change, rollback, port) tells deploy.succeeded when it goes live and
// deploy.failed when its rollout fails, naming the release and what keeps serving.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Notice } from '../../../src/contracts/notification-sink.js';
import { ReleaseManager } from '../../../src/deploy/release-manager.js';
import { StageOutput } from '../../../src/deploy/stage-output.js';
import { silentLogger } from '../../../src/log/logger.js';
import { Captured } from '../fakes/deploy-fakes.js';
import { deploySetup, liveApp } from '../fakes/services-setup.js';

const never = new AbortController().signal;

test('derive tells deploy.succeeded with the new release, and deploy.failed when the rollout fails', async () => {
  const s = deploySetup();
  await liveApp(s, 'a');
  const notices: Notice[] = [];
  const rm = new ReleaseManager({
    releases: s.state.releases,
    formation: (app) => s.state.formation.all(app),
    settings: (app) => s.settings.snapshot(app),
    rollout: s.rollout,
    runtime: s.runtime,
    log: silentLogger(),
    notify: { notify: (n) => notices.push(n) },
  });
  const v1 = s.state.releases.current('a')!;
  const v2 = await rm.derive('a', v1, { config: { A: '1' } }, 'Set A', new StageOutput(new Captured()), never);
  assert.equal(v2.version, 2);
  assert.deepEqual(notices, [{ event: 'deploy.succeeded', app: 'a', release: 2, message: 'Set A: release v2 is live' }]);

  s.runtime.crashing.add('a.web.1.v3');
  await assert.rejects(rm.derive('a', v2, { config: { A: '2' } }, 'Set A again', new StageOutput(new Captured()), never));
  assert.equal(notices.length, 2);
  assert.deepEqual({ ...notices[1]!, message: '' }, { event: 'deploy.failed', app: 'a', release: 3, message: '' });
  assert.match(notices[1]!.message, /^Set A again failed: .+; v2 keeps serving$/);
});
