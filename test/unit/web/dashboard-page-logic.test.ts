import assert from 'node:assert/strict';
import path from 'node:path';
import { test } from 'node:test';
import { pathToFileURL } from 'node:url';

// The decisions the dashboard's pages make from command output (web/dashboard, browser modules
// with no DOM use at import): what changed between releases, when an app needs attention, and
// how replicas read. The browser test (test/e2e/dashboard-browser.test.ts) drives the pages whole.

const WEB = path.resolve(import.meta.dirname, '..', '..', '..', 'web', 'dashboard');
const load = <T>(file: string) => import(pathToFileURL(path.join(WEB, file)).href) as Promise<T>;

interface Release {
  version: number;
  status: string;
  image: string | null;
  configKeys: string[];
  formation: Record<string, number>;
}
interface Report {
  release: number | null;
  stopped: boolean;
  formation: Record<string, number>;
  containers: { process: string; state: string; restarts: number; oneOff: boolean }[];
}
const { changes } = await load<{ changes: (r: Release, older?: Release) => string[] }>('app-releases.js');
const { appState, replicas, fromInfo } = await load<{
  fromInfo: (info: {
    release: number | null;
    formation: Record<string, number>;
    containers: { process: string; state: string; restartCount: number }[];
  }) => Report;
  appState: (r: Report | null, newest?: { status: string; version: number } | null) => { label: string; bad: boolean };
  replicas: (r: Report | null) => string;
}>('overview-page.js');

const rel = (over: Partial<Release>): Release => ({
  version: 1,
  status: 'live',
  image: 'paas/a:v1',
  configKeys: [],
  formation: { web: 1 },
  ...over,
});
const running = (process: string, over: Partial<Report['containers'][0]> = {}) => ({
  process,
  state: 'running',
  restarts: 0,
  oneOff: false,
  ...over,
});

test('a release lists what changed against the one before it: image, config keys added and removed, formation', () => {
  const older = rel({ configKeys: ['A', 'GONE'], formation: { web: 1 } });
  const newer = rel({ version: 2, image: 'paas/a:v2', configKeys: ['A', 'NEW'], formation: { web: 2, worker: 1 } });
  assert.deepEqual(changes(newer, older), ['image paas/a:v2', '+NEW', '−GONE', 'web 1→2', 'worker 0→1']);
  assert.deepEqual(changes(rel({ version: 3 }), rel({})), []);
  assert.deepEqual(changes(rel({}), undefined), ['first release']);
});

test('an app whose newest deploy failed or whose containers restart is flagged; others read as their state', () => {
  const ok: Report = { release: 2, stopped: false, formation: { web: 1 }, containers: [running('web')] };
  assert.deepEqual(appState(ok, { status: 'live', version: 2 }), { label: 'running', bad: false, good: true });
  assert.equal(appState(ok, { status: 'failed', version: 3 }).label, 'deploy v3 failed');
  assert.equal(appState(ok, { status: 'failed', version: 3 }).bad, true);
  const crashing = { ...ok, containers: [running('web', { state: 'restarting', restarts: 4 })] };
  assert.deepEqual(appState(crashing, null), { label: 'crashing (1 container, 4 restarts)', bad: true });
  // a one-off `run` container that exited is not the app crashing
  assert.equal(appState({ ...ok, containers: [running('web'), running('run', { state: 'exited', oneOff: true })] }, null).bad, false);
  assert.equal(appState({ ...ok, release: null, containers: [] }, null).label, 'not deployed');
  assert.equal(appState({ ...ok, stopped: true, containers: [] }, null).label, 'stopped');
});

test('replicas read as running of wanted per process type', () => {
  const r: Report = {
    release: 1,
    stopped: false,
    formation: { web: 2, worker: 1 },
    containers: [running('web'), running('web', { state: 'exited' }), running('worker'), running('web', { oneOff: true })],
  };
  assert.equal(replicas(r), 'web 1/2 · worker 1/1');
  assert.equal(replicas({ ...r, formation: {} }), '–');
});

test('apps:info reads as a report: one-off containers apart, and no app container at all while some are wanted is stopped', () => {
  const r = fromInfo({
    release: 3,
    formation: { web: 1 },
    containers: [
      { process: 'web', state: 'running', restartCount: 2 },
      { process: 'run', state: 'exited', restartCount: 0 },
    ],
  });
  assert.deepEqual(r.containers, [running('web', { restarts: 2 }), running('run', { state: 'exited', oneOff: true })]);
  assert.equal(r.stopped, false);
  assert.equal(fromInfo({ release: 3, formation: { web: 1 }, containers: [] }).stopped, true);
  assert.equal(fromInfo({ release: null, formation: {}, containers: [] }).stopped, false);
});
