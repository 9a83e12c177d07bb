import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { AppLogStore } from '../../../src/app-logs/app-log-store.js';
import type { LiveListener } from '../../../src/app-logs/log-collector.js';
import type { LogRecord } from '../../../src/app-logs/log-record.js';
import { LogSettings } from '../../../src/app-logs/log-settings.js';
import type { CommandIo, PtyInfo } from '../../../src/contracts/command-io.js';
import type { ContainerSpec } from '../../../src/deploy/adapter-interfaces.js';
import { silentLogger } from '../../../src/log/logger.js';
import type { OneOffIo } from '../../../src/runtime/one-off-runner.js';
import { LogsService } from '../../../src/services/logs-service.js';
import { Captured } from '../fakes/deploy-fakes.js';
import { liveApp, never, settle } from '../fakes/ops-services-fakes.js';
import { deploySetup } from '../fakes/services-setup.js';

const T = (s: number) => `2026-01-01T00:00:0${s}.5Z`;
const rec = (s: number, p: string, i: number, m: string, r = 1): LogRecord => ({ t: T(s), c: `c-${p}-${i}-${r}`, r, p, i, s: 'o', m });

/** In-memory rows of app_settings and settings. */
function rows() {
  const app = new Map<string, Record<string, string>>();
  const global = new Map<string, string>();
  return {
    app: {
      all: (a: string) => ({ ...(app.get(a) ?? {}) }),
      set: (a: string, k: string, v: string) => app.set(a, { ...(app.get(a) ?? {}), [k]: v }),
      unset: (a: string, k: string) => {
        const m = { ...(app.get(a) ?? {}) };
        delete m[k];
        app.set(a, m);
      },
    },
    global: { get: (k: string) => global.get(k), set: (k: string, v: string) => void global.set(k, v) },
  };
}

const ADMIN_KEY = { admin: true };

function services() {
  const s = deploySetup();
  const runs: { spec: ContainerSpec; io: OneOffIo }[] = [];
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'paas-logs-svc-'));
  const logSettings = new LogSettings(rows());
  const store = new AppLogStore(dir, (app) => logSettings.of(app).retention, silentLogger());
  const listeners = new Set<LiveListener>();
  const drainsSet: Array<[string, string | null]> = [];
  const collector = {
    subscribe: (_app: string, fn: LiveListener) => {
      listeners.add(fn);
      return () => listeners.delete(fn);
    },
    following: () => 2,
  };
  /** what the collector does with a batch: store it, then tell the live listeners */
  const arrive = (app: string, records: LogRecord[]) => {
    const at = store.append(app, records);
    for (const fn of listeners) fn(records, at);
  };
  const logs = new LogsService({
    releases: s.state.releases,
    settings: s.settings,
    rollout: s.rollout,
    runtime: {
      runOneOff: async (spec, io) => {
        runs.push({ spec, io });
        return 3;
      },
    },
    store,
    collector,
    logSettings,
    drains: {
      set: (app, url) => void drainsSet.push([app, url]),
      stats: (app) =>
        drainsSet.at(-1)?.[1] && app === 'a' ? { url: drainsSet.at(-1)![1]!, sent: 4, dropped: 1, queued: 0, lastError: null } : null,
    },
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));
  return { ...s, runs, logs, store, arrive, listeners, drainsSet, dir };
}

describe('LogsService.logs', () => {
  test('the last N stored lines across releases, printed `<time> web.1: <text>`; filters by process, release and age', async () => {
    const s = services();
    s.arrive('a', [rec(1, 'web', 1, 'booting v1'), rec(2, 'worker', 1, 'job 1 done')]);
    s.arrive('a', [rec(3, 'web', 1, 'booting v2', 2), rec(4, 'web', 2, 'GET / 200', 2)]);
    s.arrive('b', [rec(5, 'web', 1, 'other app')]);
    const out = new Captured();
    await s.logs.logs('a', { follow: false, lines: 100, process: null }, out, never);
    assert.equal(
      out.text,
      [`${T(1)} web.1: booting v1`, `${T(2)} worker.1: job 1 done`, `${T(3)} web.1: booting v2`, `${T(4)} web.2: GET / 200`, ''].join('\n'),
    );
    const run = async (o: Partial<Parameters<LogsService['logs']>[1]>) => {
      const c = new Captured();
      await s.logs.logs('a', { follow: false, lines: 100, process: null, ...o }, c, never);
      return c.text;
    };
    assert.equal(await run({ lines: 1 }), `${T(4)} web.2: GET / 200\n`);
    assert.equal(await run({ process: 'worker' }), `${T(2)} worker.1: job 1 done\n`);
    assert.equal(await run({ release: 1 }), `${T(1)} web.1: booting v1\n${T(2)} worker.1: job 1 done\n`);
    assert.equal(await run({ process: 'web', release: 2, lines: 1 }), `${T(4)} web.2: GET / 200\n`);
    assert.equal(await run({ sinceMs: 60_000 }), '', 'lines of 2026-01-01 are older than a minute');
    assert.equal(await run({ sinceMs: Date.now() }), out.text.replace(/\n$/, '\n'));
  });

  test('an app with nothing stored prints nothing', async () => {
    const s = services();
    const out = new Captured();
    await s.logs.logs('none', { follow: false, lines: 10, process: null }, out, never);
    assert.equal(out.text, '');
  });

  test('following prints the history, then each new matching line once, until the signal aborts', async () => {
    const s = services();
    s.arrive('a', [rec(1, 'web', 1, 'old')]);
    const out = new Captured();
    const stop = new AbortController();
    const following = s.logs.logs('a', { follow: true, lines: 10, process: 'web' }, out, stop.signal);
    // a batch arriving while the history is read is printed once, after it
    s.arrive('a', [rec(2, 'web', 1, 'during the read')]);
    // the history is read from files: under load that takes more than a few turns of the loop
    const printed = async (text: string) => {
      for (let i = 0; i < 500 && !out.text.includes(text); i++) await settle();
    };
    await printed('during the read');
    s.arrive('a', [rec(3, 'worker', 1, 'not web'), rec(4, 'web', 2, 'later')]);
    await printed('later');
    await settle();
    assert.equal(out.text, [`${T(1)} web.1: old`, `${T(2)} web.1: during the read`, `${T(4)} web.2: later`, ''].join('\n'));
    stop.abort();
    await following;
    assert.equal(s.listeners.size, 0, 'unsubscribed');
  });
});

describe('LogsService settings and report', () => {
  test('logs:set stores caps and the drain, runs retention, and the report shows them with the drain password hidden', async () => {
    const s = services();
    assert.deepEqual(s.logs.report('a'), {
      app: 'a',
      maxSize: '100m',
      maxAge: '7d',
      defaults: ['max-size', 'max-age'],
      storedBytes: 0,
      segments: 0,
      droppedLines: 0,
      following: 2,
      drain: null,
    });
    assert.equal(s.logs.setGlobal('max-age', '30d'), '30d');
    assert.equal(s.logs.set('a', 'max-size', '10m', ADMIN_KEY), '10m');
    assert.equal(s.logs.set('a', 'drain', 'https://u:pw@logs.example/in', ADMIN_KEY), 'https://u:***@logs.example/in');
    assert.deepEqual(s.drainsSet, [['a', 'https://u:pw@logs.example/in']]);
    const r = s.logs.report('a');
    assert.deepEqual([r.maxSize, r.maxAge, r.defaults], ['10m', '30d', ['max-age']]);
    assert.deepEqual(r.drain, { url: 'https://u:***@logs.example/in', sent: 4, dropped: 1, queued: 0, lastError: null });
    assert.equal(s.logs.set('a', 'drain', 'off', ADMIN_KEY), 'off');
    assert.deepEqual(s.drainsSet.at(-1), ['a', null]);
    assert.equal(s.logs.set('a', 'max-size', undefined, ADMIN_KEY), 'the default');
  });

  test('bad values are refused with a usage error and change nothing', () => {
    const s = services();
    for (const [k, v] of [
      ['max-size', 'abc'],
      ['max-age', '7 days'],
      ['drain', 'ftp://x'],
      ['colour', 'red'],
    ] as const)
      assert.throws(() => s.logs.set('a', k, v, ADMIN_KEY), { code: 'PAAS_ERR_LOGS_USAGE' });
    assert.throws(() => s.logs.setGlobal('drain', 'https://x'), { code: 'PAAS_ERR_LOGS_USAGE' });
    assert.deepEqual(s.drainsSet, []);
    assert.deepEqual(s.logs.report('a').defaults, ['max-size', 'max-age']);
  });

  test('a developer key may not aim a drain at this host or a link-local address; an admin may', () => {
    const s = services();
    for (const url of ['syslog://127.0.0.1:514', 'https://localhost/x', 'http://169.254.169.254/latest', 'syslog+tls://[::1]:6514'])
      assert.throws(() => s.logs.set('a', 'drain', url, { admin: false }), { code: 'PAAS_ERR_LOGS_DRAIN_REFUSED' }, url);
    assert.deepEqual(s.drainsSet, []);
    assert.equal(s.logs.set('a', 'drain', 'syslog://10.0.0.5:514', { admin: false }), 'syslog://10.0.0.5:514', 'a LAN receiver is fine');
    assert.equal(s.logs.set('a', 'drain', 'syslog://127.0.0.1:514', ADMIN_KEY), 'syslog://127.0.0.1:514');
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
