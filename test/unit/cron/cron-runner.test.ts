// CronRunner over a fake Docker engine and a real SQLite file: concurrency policies (allow starts
// another, forbid skips and records it, replace stops the old one first), containers labelled as
// one-off runs of process type cron with the words as their command, results recorded from the
// containers' exits, the time limit, and a run whose container vanished. CronScheduler follows the
// live release: a task is scheduled only while the release that has it is live, never suspended.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, test } from 'node:test';
import type Dockerode from 'dockerode';
import { CronRunner } from '../../../src/cron/cron-runner.js';
import { CronScheduler } from '../../../src/cron/cron-scheduler.js';
import { type CronTask, parseCronEntries, withIds } from '../../../src/cron/cron-task.js';
import { silentLogger } from '../../../src/log/logger.js';
import type { Release } from '../../../src/state/releases-repository.js';
import { State } from '../../../src/state/state.js';

interface FakeContainer {
  id: string;
  opts: Dockerode.ContainerCreateOptions;
  running: boolean;
  exitCode: number;
  stops: number;
  created: number;
}

function fakeDocker() {
  const containers = new Map<string, FakeContainer>();
  let n = 0;
  const handle = (id: string) => ({
    id,
    start: async () => {
      containers.get(id)!.running = true;
    },
    stop: async () => {
      const c = containers.get(id)!;
      c.stops++;
      c.running = false;
      c.exitCode = 143;
    },
    inspect: async () => {
      const c = containers.get(id);
      if (!c) throw Object.assign(new Error('no such container'), { statusCode: 404 });
      return { State: { Running: c.running, ExitCode: c.exitCode } };
    },
    remove: async () => {
      containers.delete(id);
    },
  });
  const docker = {
    createContainer: async (opts: Dockerode.ContainerCreateOptions) => {
      const id = `c${++n}`;
      containers.set(id, { id, opts, running: false, exitCode: 0, stops: 0, created: n });
      return handle(id);
    },
    getContainer: (id: string) => handle(id),
    listContainers: async () => [...containers.values()].filter((c) => !c.running).map((c) => ({ Id: c.id, Created: c.created })),
  };
  return { docker: docker as unknown as Dockerode, containers };
}

function setup(timeout = 3600) {
  const state = State.open(path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'paas-cron-')), 'paas.db'));
  state.apps.create('shop');
  const release = (v: number): Release =>
    state.releases.create({
      app: 'shop',
      image: `paas/shop:v${v}`,
      commitSha: 'abc',
      description: 'Deploy',
      config: { GREETING: 'hi' },
      formation: { web: 1 },
      status: 'live',
      builder: 'dockerfile',
      processes: { web: 'httpd' },
      port: 5000,
    });
  let clock = Date.parse('2026-12-06T10:00:00Z');
  const { docker, containers } = fakeDocker();
  const runner = new CronRunner({
    docker,
    runtime: { ensureNetwork: async () => {}, appNetwork: (app) => `paas-${app}`, claim: () => {} },
    extraLabels: { 'paas.test': '1' },
    repo: state.cron,
    specOf: (app, r, process, replica) => ({
      app,
      process,
      release: r.version,
      replica,
      image: r.image!,
      command: r.processes[process] ?? undefined,
      env: { ...r.config },
      port: 5000,
    }),
    timeoutOf: () => timeout,
    log: silentLogger(),
    now: () => clock,
  });
  const task = (policy: string): CronTask =>
    withIds('shop', parseCronEntries([{ command: "sh -c 'sleep 100'", schedule: '@hourly', concurrency_policy: policy }]))[0]!;
  return { state, release, runner, containers, task, tick: (ms: number) => (clock += ms) };
}

describe('CronRunner', () => {
  test("a run is a one-off container of process type cron: the task's words, the release's image and config", async () => {
    const s = setup();
    const r1 = s.release(1);
    const out = await s.runner.start('shop', s.task('allow'), r1, 'schedule');
    assert.equal(out.skipped, false);
    const [c] = [...s.containers.values()];
    assert.deepEqual(c!.opts.Cmd, ['sh', '-c', 'sleep 100']);
    assert.equal(c!.opts.Image, 'paas/shop:v1');
    assert.ok((c!.opts.Env as string[]).includes('GREETING=hi'));
    const labels = c!.opts.Labels!;
    assert.equal(labels['paas.process'], 'cron');
    assert.equal(labels['paas.oneoff'], '1');
    assert.equal(labels['paas.cron.task'], s.task('allow').id);
    assert.equal(labels['paas.test'], '1');
    assert.match(String(c!.opts.name), /^shop\.cron\.\d+\.v1\./);
    assert.equal((c!.opts.HostConfig as { RestartPolicy: { Name: string } }).RestartPolicy.Name, 'no');
    assert.equal(s.state.cron.run(out.run!.id)!.result, 'running');
    // it exits 3: the next check records it as failed with its code
    c!.running = false;
    c!.exitCode = 3;
    await s.runner.check();
    const done = s.state.cron.run(out.run!.id)!;
    assert.deepEqual([done.result, done.exitCode, done.release], ['failed', 3, 1]);
  });

  test('allow starts another run while one runs; forbid skips and records the skip', async () => {
    const s = setup();
    const r1 = s.release(1);
    await s.runner.start('shop', s.task('allow'), r1, 'schedule');
    await s.runner.start('shop', s.task('allow'), r1, 'schedule');
    assert.equal([...s.containers.values()].filter((c) => c.running).length, 2);

    const t = setup();
    const v1 = t.release(1);
    const first = await t.runner.start('shop', t.task('forbid'), v1, 'schedule');
    const second = await t.runner.start('shop', t.task('forbid'), v1, 'schedule');
    assert.equal(second.skipped, true);
    assert.equal(t.containers.size, 1);
    assert.equal(t.state.cron.lastRuns('shop').get(t.task('forbid').id)!.result, 'skipped');
    // once the first ended, forbid runs again
    [...t.containers.values()][0]!.running = false;
    const third = await t.runner.start('shop', t.task('forbid'), v1, 'schedule');
    assert.equal(third.skipped, false);
    assert.equal(t.state.cron.run(first.run!.id)!.result, 'succeeded');
  });

  test('replace stops the running one first and records it as replaced', async () => {
    const s = setup();
    const r1 = s.release(1);
    const first = await s.runner.start('shop', s.task('replace'), r1, 'schedule');
    const second = await s.runner.start('shop', s.task('replace'), r1, 'schedule');
    const [old, fresh] = [...s.containers.values()];
    assert.deepEqual([old!.stops, old!.running, fresh!.running], [1, false, true]);
    assert.equal(s.state.cron.run(first.run!.id)!.result, 'replaced');
    assert.equal(s.state.cron.run(second.run!.id)!.result, 'running');
  });

  test('a run past its time limit is stopped; a vanished container is lost', async () => {
    const s = setup(60);
    const r1 = s.release(1);
    const run = (await s.runner.start('shop', s.task('allow'), r1, 'schedule')).run!;
    s.tick(30_000);
    await s.runner.check();
    assert.equal(s.state.cron.run(run.id)!.result, 'running');
    s.tick(31_000);
    await s.runner.check();
    assert.equal(s.state.cron.run(run.id)!.result, 'timed-out');
    const gone = (await s.runner.start('shop', s.task('allow'), r1, 'schedule')).run!;
    s.containers.delete(gone.container!);
    await s.runner.check();
    assert.equal(s.state.cron.run(gone.id)!.result, 'lost');
  });

  test('only the newest finished containers of a task are kept', async () => {
    const s = setup();
    const r1 = s.release(1);
    for (let i = 0; i < 5; i++) {
      await s.runner.start('shop', s.task('allow'), r1, 'schedule');
      for (const c of s.containers.values()) c.running = false;
      await s.runner.check();
      await new Promise((r) => setImmediate(r));
    }
    assert.deepEqual([...s.containers.keys()].sort(), ['c3', 'c4', 'c5']);
  });
});

describe('CronScheduler', () => {
  test('schedules the tasks of the live release only, not suspended or maintenance ones, and follows a new live release', () => {
    const s = setup();
    const v1 = s.release(1);
    const entries = parseCronEntries([
      { command: 'echo a', schedule: '@hourly' },
      { command: 'echo b', schedule: '@daily' },
      { command: 'echo c', schedule: '@daily', maintenance: true },
    ]);
    s.state.cron.saveEntries('shop', v1.image!, entries);
    const [a, b, c] = withIds('shop', entries);
    let live = v1;
    const sch = new CronScheduler({
      apps: () => ['shop'],
      current: () => live,
      repo: s.state.cron,
      runner: s.runner,
      log: silentLogger(),
    });
    try {
      sch.reconcile();
      assert.ok(sch.nextRun('shop', a!));
      assert.ok(sch.nextRun('shop', b!));
      assert.equal(sch.nextRun('shop', c!), null);
      s.state.cron.suspend('shop', b!.id, 'now');
      sch.reconcile();
      assert.equal(sch.nextRun('shop', b!), null);
      s.state.cron.suspend('shop', '*', 'now');
      sch.reconcile();
      assert.equal(sch.nextRun('shop', a!), null);
      s.state.cron.resume('shop', null);
      sch.reconcile();
      assert.ok(sch.nextRun('shop', b!));
      // v2 has no cron: nothing is scheduled; a rollback to v1's image brings them back
      live = { ...s.release(2), image: 'paas/shop:v2' };
      sch.reconcile();
      assert.deepEqual([sch.nextRun('shop', a!), sch.nextRun('shop', b!)], [null, null]);
      live = { ...live, version: 3, image: v1.image };
      sch.reconcile();
      assert.ok(sch.nextRun('shop', a!));
    } finally {
      sch.stop();
    }
  });
});
