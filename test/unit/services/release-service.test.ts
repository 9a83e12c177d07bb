import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, test } from 'node:test';
import { StageOutput } from '../../../src/deploy/stage-output.js';
import type { Release } from '../../../src/state/releases-repository.js';
import { ReleaseService, releaseArg } from '../../../src/services/release-service.js';
import { Captured } from '../fakes/deploy-fakes.js';
import { holdLock, never, liveApp, settle } from '../fakes/ops-services-fakes.js';
import { deploySetup, releaseService } from '../fakes/services-setup.js';

function services(opts: { keepWarm?: boolean } = {}) {
  const s = deploySetup(opts);
  const logs = fs.mkdtempSync(path.join(os.tmpdir(), 'paas-release-logs-'));
  const logPath = (app: string, v: number) => path.join(logs, `${app}-v${v}.log`);
  const service = releaseService(s, logPath);
  return { ...s, service, logPath };
}
type S = ReturnType<typeof services>;

/** A live v1 (no config, web=1), then a push of v2 with image paas/a:v2, K=2 and `formation`. */
async function twoReleases(s: S, formation: Record<string, number> = { web: 2 }, over: Partial<Release> = {}) {
  const v1 = await liveApp(s, 'a');
  s.runtime.images.add('paas/a:v2');
  s.state.config.replace('a', { K: '2' });
  s.state.formation.replace('a', formation);
  const live = s.state.releases.current('a')!;
  const v2 = await s.releases.derive(
    'a',
    live,
    { image: 'paas/a:v2', config: { K: '2' }, formation, ...over },
    'Deploy def',
    new StageOutput(new Captured()),
    never,
  );
  s.runtime.calls.length = 0;
  return { v1, v2 };
}

const statuses = (s: S) => s.state.releases.list('a').map((r) => `v${r.version} ${r.status}`);

describe('releaseArg', () => {
  test('vN and N are release versions; anything else is a usage error', () => {
    assert.equal(releaseArg('v3'), 3);
    assert.equal(releaseArg('12'), 12);
    for (const bad of ['', 'v', 'v-1', '3a', 'V3', 'latest', 'v1234567890']) {
      assert.throws(() => releaseArg(bad), {
        code: 'PAAS_ERR_RELEASES_USAGE',
        exitCode: 2,
        message: `'${bad}' is not a release version (e.g. v3)`,
      });
    }
  });
});

describe('ReleaseService.list and log', () => {
  test('list gives the newest releases first, up to the limit', async () => {
    const s = services();
    await twoReleases(s);
    assert.deepEqual(
      s.service.list('a', 10).map((r) => `v${r.version} ${r.description}`),
      ['v2 Deploy def', 'v1 Deploy abc'],
    );
    assert.deepEqual(
      s.service.list('a', 1).map((r) => r.version),
      [2],
    );
    assert.deepEqual(s.service.list('other', 10), []);
  });

  test('log gives the deploy output kept with a release, by default the newest', async () => {
    const s = services();
    await twoReleases(s);
    fs.writeFileSync(s.logPath('a', 1), 'build one\n');
    fs.writeFileSync(s.logPath('a', 2), 'build two\n');
    assert.equal(s.service.log('a', null).toString(), 'build two\n');
    assert.equal(s.service.log('a', 1).toString(), 'build one\n');
  });

  test('log refuses an app without releases, a release that does not exist, and one without a log', async () => {
    const s = services();
    s.state.apps.create('b');
    assert.throws(() => s.service.log('b', null), { code: 'PAAS_ERR_RELEASES_NONE', message: "app 'b' has no releases yet" });
    await twoReleases(s);
    assert.throws(() => s.service.log('a', 9), { code: 'PAAS_ERR_RELEASES_NOT_FOUND', message: "app 'a' has no release v9" });
    assert.throws(() => s.service.log('a', 2), {
      code: 'PAAS_ERR_RELEASES_NO_LOG',
      message: "release v2 of 'a' has no deploy log (only pushes record one)",
    });
  });
});

describe('ReleaseService.rollback', () => {
  test('by default restores the release before the live one: its image, config and formation, as a new release', async () => {
    const s = services();
    await twoReleases(s);
    const out = new Captured();
    const r = await s.service.rollback('a', null, out, never);
    assert.equal(r.from, 2);
    assert.equal(r.to.version, 1);
    assert.deepEqual(
      { v: r.release.version, image: r.release.image, config: r.release.config, formation: r.release.formation, d: r.release.description },
      { v: 3, image: 'paas/a:v1', config: {}, formation: { web: 1 }, d: 'Rollback to v1' },
    );
    assert.deepEqual(statuses(s), ['v3 live', 'v2 superseded', 'v1 superseded']);
    assert.deepEqual(s.state.config.all('a'), {});
    assert.deepEqual(s.state.formation.all('a'), { web: 1 });
    assert.deepEqual(s.runtime.running('a'), ['a.web.1.v3']);
    assert.equal(s.runtime.specs.at(-1)!.image, 'paas/a:v1');
    assert.match(out.text, /^-----> Rolling back a from v2 to v1 \(paas\/a:v1\)\n/);
  });

  test('a named version is restored; rolling back again by default goes to the release before the live one', async () => {
    const s = services();
    await twoReleases(s);
    await s.service.rollback('a', 1, new Captured(), never);
    const again = await s.service.rollback('a', null, new Captured(), never);
    assert.equal(again.to.version, 2);
    assert.deepEqual(s.state.config.all('a'), { K: '2' });
    assert.deepEqual(s.state.formation.all('a'), { web: 2 });
    assert.deepEqual(s.runtime.specs.at(-1)!.env, { K: '2' });
  });

  test('the default target skips failed releases and releases without an image', async () => {
    const s = services();
    await twoReleases(s);
    const base = { app: 'a', commitSha: null, config: {}, formation: { web: 1 }, builder: null, processes: {}, port: 5000 };
    s.state.releases.create({ ...base, image: 'paas/a:v3', description: 'failed', status: 'failed' });
    s.state.releases.create({ ...base, image: null, description: 'build failed', status: 'failed' });
    const live = s.state.releases.current('a')!;
    await s.releases.derive('a', live, { image: 'paas/a:v2' }, 'Deploy again', new StageOutput(new Captured()), never);
    const r = await s.service.rollback('a', null, new Captured(), never);
    assert.equal(r.from, 5);
    assert.equal(r.to.version, 2);
  });

  test('a target without a recorded formation takes the current one', async () => {
    const s = services();
    await twoReleases(s, {});
    await s.service.rollback('a', 1, new Captured(), never);
    s.state.formation.replace('a', { web: 3 });
    const r = await s.service.rollback('a', 2, new Captured(), never);
    assert.deepEqual(r.release.formation, { web: 3 });
    assert.deepEqual(s.state.formation.all('a'), { web: 3 });
  });

  test("the target's app.json formation lock comes back with it; an unknown lock keeps the current one", async () => {
    const s = services();
    await twoReleases(s, { web: 1 }, { formationLock: ['web'] });
    s.settings.write('a', 'formation.appjson', ['worker']);
    await s.service.rollback('a', 1, new Captured(), never);
    assert.deepEqual(s.settings.get('a', 'formation.appjson'), ['worker'], 'v1 has no recorded lock (null): kept');
    await s.service.rollback('a', 2, new Captured(), never);
    assert.deepEqual(s.settings.get('a', 'formation.appjson'), ['web']);
  });

  test('a rollback of a stopped app starts the target and clears the stopped mark', async () => {
    const s = services();
    await twoReleases(s);
    s.settings.write('a', 'stopped', { web: 2 });
    s.state.formation.replace('a', { web: 0 });
    await s.service.rollback('a', 1, new Captured(), never);
    assert.equal(s.settings.get('a', 'stopped'), null);
    assert.deepEqual(s.state.formation.all('a'), { web: 1 });
  });

  test('a stopped app rolled back to a release without a recorded formation gets the formation ps:stop saved', async () => {
    const s = services();
    await twoReleases(s, {});
    await s.service.rollback('a', 1, new Captured(), never);
    s.settings.write('a', 'stopped', { web: 3 });
    s.state.formation.replace('a', { web: 0 });
    const r = await s.service.rollback('a', 2, new Captured(), never);
    assert.deepEqual(r.release.formation, { web: 3 });
    assert.deepEqual(s.state.formation.all('a'), { web: 3 });
    assert.equal(s.settings.get('a', 'stopped'), null);
  });

  test('refusals change nothing: no live release, nothing earlier, unknown, imageless, live, pruned', async () => {
    const s = services();
    s.state.apps.create('b');
    await assert.rejects(s.service.rollback('b', null, new Captured(), never), { code: 'PAAS_ERR_DEPLOY_NO_RELEASE' });
    await liveApp(s, 'one');
    await assert.rejects(s.service.rollback('one', null, new Captured(), never), {
      code: 'PAAS_ERR_ROLLBACK_NO_TARGET',
      message: "app 'one' has no earlier release to roll back to",
    });
    await twoReleases(s);
    const base = { app: 'a', commitSha: null, config: {}, formation: { web: 1 }, builder: null, processes: {}, port: 5000 };
    s.state.releases.create({ ...base, image: null, description: 'build failed', status: 'failed' });
    s.runtime.images.delete('paas/a:v1');
    const cases: [number, string, string][] = [
      [9, 'PAAS_ERR_DEPLOY_RELEASE_NOT_FOUND', "app 'a' has no release v9"],
      [3, 'PAAS_ERR_ROLLBACK_NO_IMAGE', "release v3 of 'a' never built an image; pick another"],
      [2, 'PAAS_ERR_ROLLBACK_SAME', 'v2 is already live'],
      [
        1,
        'PAAS_ERR_DEPLOY_IMAGE_PRUNED',
        "release v1 of 'a' cannot be restored: its image paas/a:v1 was pruned (only the last 5 are kept)",
      ],
    ];
    for (const [v, code, message] of cases) await assert.rejects(s.service.rollback('a', v, new Captured(), never), { code, message });
    await assert.rejects(s.service.rollback('a', null, new Captured(), never), { code: 'PAAS_ERR_DEPLOY_IMAGE_PRUNED' });
    assert.deepEqual(statuses(s), ['v3 failed', 'v2 live', 'v1 superseded']);
    assert.deepEqual(s.state.config.all('a'), { K: '2' });
    assert.deepEqual(s.runtime.calls, []);
  });

  test('a rollback that fails the health gate is a failed release; config and formation stay', async () => {
    const s = services();
    await twoReleases(s);
    s.proxy.refuse = 'unhealthy';
    await assert.rejects(s.service.rollback('a', 1, new Captured(), never), { code: 'PAAS_ERR_DEPLOY_UNHEALTHY' });
    assert.deepEqual(statuses(s), ['v3 failed', 'v2 live', 'v1 superseded']);
    assert.deepEqual(s.state.config.all('a'), { K: '2' });
    assert.deepEqual(s.state.formation.all('a'), { web: 2 });
    assert.deepEqual(s.runtime.running('a').sort(), ['a.web.1.v2', 'a.web.2.v2']);
  });

  test('waits for the app lock and says who holds it', async () => {
    const s = services();
    await twoReleases(s);
    const release = holdLock(s.locks, 'a', 'a git push');
    const out = new Captured();
    const pending = s.service.rollback('a', 1, out, never);
    await settle(1);
    assert.equal(out.text, '-----> Waiting for a git push of a to finish\n');
    assert.equal(s.state.releases.list('a').length, 2);
    await release();
    assert.equal((await pending).release.version, 3);
  });
});
