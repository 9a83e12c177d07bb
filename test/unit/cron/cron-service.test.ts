// CronService over a real SQLite file and a recording runner: tasks of the live release with their
// state, suspend/resume per task and per app (unknown ids refused, nothing stored), the time limit
// setting, cron:run under the policy's verdict. CronScheduler on a fake clock: a due task runs on
// the release live at that moment, and not while suspended.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { afterEach, describe, mock, test } from 'node:test';
import type { StartOutcome } from '../../../src/cron/cron-runner.js';
import { CronScheduler } from '../../../src/cron/cron-scheduler.js';
import { CronService } from '../../../src/cron/cron-service.js';
import { type CronTask, parseCronEntries, withIds } from '../../../src/cron/cron-task.js';
import { silentLogger } from '../../../src/log/logger.js';
import type { Release } from '../../../src/state/releases-repository.js';
import { State } from '../../../src/state/state.js';

const ENTRIES = parseCronEntries([
  { command: 'echo a', schedule: '*/10 * * * * *' },
  { command: 'echo b', schedule: '@daily', concurrency_policy: 'forbid', maintenance: true },
]);

function setup() {
  const state = State.open(path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'paas-cron-svc-')), 'paas.db'));
  state.apps.create('shop');
  const make = (_v: number, image: string): Release =>
    state.releases.create({
      app: 'shop',
      image,
      commitSha: 'abc',
      description: 'Deploy',
      config: {},
      formation: { web: 1 },
      status: 'live',
      builder: 'dockerfile',
      processes: {},
      port: 5000,
    });
  let live = make(1, 'paas/shop:v1');
  state.cron.saveEntries('shop', 'paas/shop:v1', ENTRIES);
  const [a, b] = withIds('shop', ENTRIES) as [CronTask, CronTask];
  const started: Array<{ task: string; release: number; trigger: string }> = [];
  let verdict: 'run' | 'skip' = 'run';
  const runner = {
    start: async (_app: string, task: CronTask, release: Release, trigger: string): Promise<StartOutcome> => {
      started.push({ task: task.id, release: release.version, trigger });
      if (verdict === 'skip')
        return { run: null, skipped: true, reason: 'run #1 of this task is still running (concurrency_policy forbid)' };
      const id = state.cron.startRun({
        app: 'shop',
        taskId: task.id,
        release: release.version,
        trigger,
        startedAt: 'now',
        deadline: 'later',
        result: 'running',
      });
      return { run: state.cron.run(id)!, skipped: false };
    },
    follow: async () => 7,
    check: async () => {},
  };
  let timeout: number | null = null;
  const service = new CronService({
    apps: () => ['shop'],
    current: () => live,
    repo: state.cron,
    runner,
    timeoutOf: () => timeout ?? 86_400,
    setTimeoutOf: (_app, s) => {
      timeout = s;
    },
  });
  return {
    state,
    service,
    runner,
    started,
    a,
    b,
    setVerdict: (v: 'run' | 'skip') => (verdict = v),
    goLive: (v: number, image: string) => (live = make(v, image)),
    live: () => live,
  };
}

const io = () => ({ stdout: new PassThrough(), stderr: new PassThrough(), signal: new AbortController().signal });

describe('CronService', () => {
  test('lists the live release tasks with their state; suspend and resume per task and per app', () => {
    const s = setup();
    const view = () => s.service.list('shop').map((t) => [t.id, t.suspended, t.maintenance, t.nextRun !== null]);
    assert.deepEqual(view(), [
      [s.a.id, false, false, true],
      [s.b.id, false, true, false],
    ]);
    assert.match(s.service.suspend('shop', s.a.id), /suspended/);
    assert.deepEqual(view()[0], [s.a.id, true, false, false]);
    s.service.suspend('shop', null);
    assert.match(s.service.resume('shop', s.a.id), /the app's cron stays suspended/);
    assert.equal(s.service.list('shop')[0]!.suspended, true);
    assert.match(s.service.resume('shop', null), /every task runs on schedule again/);
    assert.deepEqual(view()[0], [s.a.id, false, false, true]);
    assert.equal(s.service.report('shop').tasks, 2);
  });

  test('an unknown task id is refused and nothing is stored', () => {
    const s = setup();
    for (const fn of [() => s.service.suspend('shop', 'nope'), () => s.service.resume('shop', 'nope')])
      assert.throws(fn, { code: 'PAAS_ERR_CRON_NOT_FOUND' });
    assert.deepEqual([...s.state.cron.suspended('shop')], []);
  });

  test('the time limit takes durations from 1 s to 168 h; no value is the default', () => {
    const s = setup();
    assert.equal(s.service.set('shop', 'timeout', '2h'), 7200);
    assert.equal(s.service.set('shop', 'timeout', '90s'), 90);
    for (const bad of ['0s', 'forever', '169h', '-1'])
      assert.throws(() => s.service.set('shop', 'timeout', bad), { code: 'PAAS_ERR_CRON_USAGE' });
    assert.equal(s.service.report('shop').timeout, 90);
    assert.equal(s.service.set('shop', 'timeout', undefined), 86_400);
    assert.throws(() => s.service.set('shop', 'mailto', 'x'), { code: 'PAAS_ERR_CRON_USAGE' });
  });

  test('cron:run runs on the live release; a skipped run is refused with the reason', async () => {
    const s = setup();
    assert.equal(await s.service.run('shop', s.b.id, 'alice', false, io()), 7);
    const out = io();
    assert.equal(await s.service.run('shop', s.a.id, 'alice', true, out), 0);
    assert.match(String(out.stdout.read()), /^Started run #\d+ of task .* on v1/);
    assert.deepEqual(
      s.started.map((r) => r.trigger),
      ['cron:run by alice', 'cron:run by alice'],
    );
    s.setVerdict('skip');
    await assert.rejects(s.service.run('shop', s.b.id, 'alice', false, io()), { code: 'PAAS_ERR_CRON_BUSY' });
    await assert.rejects(s.service.run('shop', 'nope', 'alice', false, io()), { code: 'PAAS_ERR_CRON_NOT_FOUND' });
  });
});

describe('CronScheduler on a fake clock', () => {
  afterEach(() => mock.timers.reset());

  test('a due task runs on the release live at that moment, and not while suspended', async () => {
    mock.timers.enable({ apis: ['setTimeout', 'Date'], now: Date.parse('2026-12-06T10:00:01Z') });
    const s = setup();
    const sch = new CronScheduler({
      apps: () => ['shop'],
      current: () => s.live(),
      repo: s.state.cron,
      runner: s.runner,
      log: silentLogger(),
    });
    const advance = async (ms: number) => {
      for (let left = ms; left > 0; left -= 1000) {
        mock.timers.tick(1000);
        for (let i = 0; i < 5; i++) await Promise.resolve();
      }
    };
    try {
      sch.reconcile();
      await advance(10_000);
      assert.deepEqual(s.started, [{ task: s.a.id, release: 1, trigger: 'schedule' }]);
      // a config change: v2, same image, same tasks; the job is kept and runs on v2
      s.goLive(2, 'paas/shop:v1');
      sch.reconcile();
      await advance(10_000);
      assert.deepEqual(s.started.at(-1), { task: s.a.id, release: 2, trigger: 'schedule' });
      assert.equal(s.started.length, 2);
      s.state.cron.suspend('shop', s.a.id, 'now');
      await advance(10_000);
      assert.equal(s.started.length, 2, 'suspended between reconciles: the due run is not started');
    } finally {
      sch.stop();
    }
  });
});
