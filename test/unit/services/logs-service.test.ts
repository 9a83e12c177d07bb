import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { afterEach, describe, mock, test } from 'node:test';
import type { CommandIo, PtyInfo } from '../../../src/contracts/command-io.js';
import type { ContainerSpec } from '../../../src/deploy/adapter-interfaces.js';
import { silentLogger } from '../../../src/log/logger.js';
import { ContainerRuntime } from '../../../src/runtime/container-runtime.js';
import type { OneOffIo } from '../../../src/runtime/one-off-runner.js';
import { LogsService } from '../../../src/services/logs-service.js';
import { Captured } from '../fakes/deploy-fakes.js';
import { FakeLogDocker, logFrame, never, liveApp, settle } from '../fakes/ops-services-fakes.js';
import { deploySetup } from '../fakes/services-setup.js';

const T = (s: number) => `2026-01-01T00:00:0${s}.5Z`;

function services() {
  const s = deploySetup();
  const docker = new FakeLogDocker();
  const engine = new ContainerRuntime(docker.asDockerode(), silentLogger());
  const runs: { spec: ContainerSpec; io: OneOffIo }[] = [];
  let listings = 0;
  const logs = new LogsService({
    releases: s.state.releases,
    settings: s.settings,
    rollout: s.rollout,
    runtime: {
      list: (f) => {
        listings++;
        return s.runtime.list(f);
      },
      streamLogs: (ids, o, signal) => engine.streamLogs(ids, o, signal),
      runOneOff: async (spec, io) => {
        runs.push({ spec, io });
        return 3;
      },
    },
  });
  return { ...s, docker, runs, logs, listings: () => listings };
}
type S = ReturnType<typeof services>;

/** A live app running web=2 worker=1 whose containers logged a line each, out of time order. */
async function loggingApp(s: S) {
  await liveApp(s, 'a', { web: 2, worker: 1 });
  const id = (name: string) => [...s.runtime.containers.values()].find((c) => c.name === name)!.id;
  s.docker.add(id('a.web.1.v1'), 'web', 1, logFrame('stdout', T(3), 'GET / 200'));
  s.docker.add(id('a.web.2.v1'), 'web', 2, logFrame('stderr', T(1), 'booting'), logFrame('stdout', T(4), 'GET /x 404'));
  s.docker.add(id('a.worker.1.v1'), 'worker', 1, logFrame('stdout', T(2), 'job 1 done'));
  return id;
}

afterEach(() => mock.timers.reset());

describe('LogsService.logs', () => {
  test("the app's history, merged in time order and prefixed process.replica, asks each container for --num lines", async () => {
    const s = services();
    await loggingApp(s);
    const out = new Captured();
    await s.logs.logs('a', { follow: false, lines: 25, process: null }, out, never);
    assert.equal(
      out.text,
      [`${T(1)} web.2: booting`, `${T(2)} worker.1: job 1 done`, `${T(3)} web.1: GET / 200`, `${T(4)} web.2: GET /x 404`, ''].join('\n'),
    );
    assert.deepEqual(
      s.docker.asked.map((a) => [a.follow, a.tail]),
      [
        [false, '25'],
        [false, '25'],
        [false, '25'],
      ],
    );
  });

  test('a process type narrows the logs to its containers; one-off containers are never read', async () => {
    const s = services();
    const id = await loggingApp(s);
    const run = await s.runtime.start({ ...s.runtime.specs[0]!, process: 'run', replica: 0 });
    s.runtime.containers.set(run.id, { ...run, oneOff: true });
    s.docker.add(run.id, 'run', 0, logFrame('stdout', T(5), 'secret shell'));
    const out = new Captured();
    await s.logs.logs('a', { follow: false, lines: 10, process: 'worker' }, out, never);
    assert.equal(out.text, `${T(2)} worker.1: job 1 done\n`);
    const all = new Captured();
    await s.logs.logs('a', { follow: false, lines: 10, process: null }, all, never);
    assert.doesNotMatch(all.text, /secret shell/);
    assert.deepEqual(
      s.docker.asked.map((a) => a.id),
      [id('a.worker.1.v1'), id('a.web.1.v1'), id('a.web.2.v1'), id('a.worker.1.v1')],
    );
  });

  test('an app with no containers prints nothing', async () => {
    const s = services();
    s.state.apps.create('b');
    const out = new Captured();
    await s.logs.logs('b', { follow: false, lines: 10, process: null }, out, never);
    assert.equal(out.text, '');
  });

  test('following prints lines as they come, picks up containers started later from their first line, and ends on abort', async () => {
    mock.timers.enable({ apis: ['setInterval'] });
    const s = services();
    const id = await loggingApp(s);
    const out = new Captured();
    const stop = new AbortController();
    const following = s.logs.logs('a', { follow: true, lines: 1, process: 'web' }, out, stop.signal);
    await settle();
    s.docker.emit(id('a.web.1.v1'), logFrame('stdout', T(6), 'GET /later 200'));
    await settle();
    assert.match(out.text, new RegExp(`${T(6)} web.1: GET /later 200\n$`));

    const next = await s.runtime.start({ ...s.runtime.specs[0]!, release: 2, replica: 1 });
    s.docker.add(next.id, 'web', 1, logFrame('stdout', T(7), 'v2 listening'));
    const worker = await s.runtime.start({ ...s.runtime.specs[0]!, process: 'worker', release: 2, replica: 1 });
    s.docker.add(worker.id, 'worker', 1, logFrame('stdout', T(7), 'not web'));
    mock.timers.tick(1000);
    await settle();
    assert.match(out.text, new RegExp(`${T(7)} web.1: v2 listening\n$`));
    assert.deepEqual(s.docker.asked.at(-1), { id: next.id, follow: true, tail: 'all' });
    assert.equal(s.docker.asked.filter((a) => a.tail === '1').length, 2, 'the web containers at the start are asked for --num lines');

    stop.abort();
    await following;
    const before = s.listings();
    mock.timers.tick(5000);
    await settle();
    assert.equal(s.listings(), before, 'the poll for new containers ends with the command');
    assert.doesNotMatch(out.text, /not web/);
  });
});

describe('LogsService.run', () => {
  const io = (pty: PtyInfo | null): CommandIo => ({
    stdin: new PassThrough(),
    stdout: new Captured(),
    stderr: new Captured(),
    signal: never,
    pty,
  });

  test('runs the command in a one-off container of the live release with its config, never restarted; returns its exit code', async () => {
    const s = services();
    await liveApp(s, 'a');
    s.state.releases.create({
      ...s.state.releases.current('a')!,
      config: { DATABASE_URL: 'postgres://db' },
      status: 'live',
    });
    const cmdIo = io(null);
    assert.equal(await s.logs.run('a', 'rake db:migrate', cmdIo), 3);
    const { spec, io: got } = s.runs[0]!;
    assert.deepEqual(
      { app: spec.app, process: spec.process, replica: spec.replica, release: spec.release, image: spec.image },
      { app: 'a', process: 'run', replica: 0, release: 2, image: 'paas/a:v1' },
    );
    assert.deepEqual([spec.command, spec.env, spec.restart], ['rake db:migrate', { DATABASE_URL: 'postgres://db' }, { policy: 'no' }]);
    assert.equal(got.tty, false);
    assert.equal(got.stdin, cmdIo.stdin);
    assert.equal(got.stdout, cmdIo.stdout);
    assert.equal(got.stderr, cmdIo.stderr);
    assert.equal(got.onResize, undefined);
  });

  test('with a pty: a tty, TERM from the client (xterm when it sends none), and window changes until unsubscribed', async () => {
    const s = services();
    await liveApp(s, 'a');
    const resizers: ((cols: number, rows: number) => void)[] = [];
    const pty: PtyInfo = { cols: 120, rows: 40, term: '', onResize: (fn) => resizers.push(fn) };
    await s.logs.run('a', 'bash', io(pty));
    await s.logs.run('a', 'bash', io({ ...pty, term: 'screen-256color' }));
    const [first, second] = s.runs;
    assert.deepEqual([first!.spec.env.TERM, second!.spec.env.TERM], ['xterm', 'screen-256color']);
    assert.equal(first!.io.tty, true);
    assert.deepEqual(first!.io.initialSize, { cols: 120, rows: 40 });
    const sizes: { cols: number; rows: number }[] = [];
    const unsubscribe = first!.io.onResize!((size) => sizes.push(size));
    resizers[0]!(100, 30);
    unsubscribe();
    resizers[0]!(90, 20);
    assert.deepEqual(sizes, [{ cols: 100, rows: 30 }]);
  });

  test('an app without a live release is refused and runs nothing', async () => {
    const s = services();
    s.state.apps.create('b');
    await assert.rejects(s.logs.run('b', 'bash', io(null)), {
      code: 'PAAS_ERR_DEPLOY_NO_RELEASE',
      message: "app 'b' has no live release yet: push it first",
    });
    assert.deepEqual(s.runs, []);
  });
});
