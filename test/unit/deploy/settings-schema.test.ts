import assert from 'node:assert/strict';
import { test } from 'node:test';
import { AppSettingsStore, type SettingsRows } from '../../../src/deploy/app-settings-store.js';
import { SETTING_KEYS, SETTINGS, snapshotOf } from '../../../src/deploy/settings-schema.js';

class MemoryRows implements SettingsRows {
  rows = new Map<string, Record<string, string>>();
  all(app: string): Record<string, string> {
    return { ...(this.rows.get(app) ?? {}) };
  }
  set(app: string, key: string, json: string): void {
    this.rows.set(app, { ...this.all(app), [key]: json });
  }
  unset(app: string, key: string): void {
    const r = this.all(app);
    delete r[key];
    this.rows.set(app, r);
  }
}

test('every setting reads as its default when nothing is stored', () => {
  const snap = snapshotOf({});
  assert.deepEqual(Object.keys(snap).sort(), [...SETTING_KEYS].sort());
  for (const k of SETTING_KEYS) assert.deepEqual(snap[k], SETTINGS[k].default, k);
  assert.equal(snap['max-replicas'], 20);
});

test('rows written by earlier versions read back typed', () => {
  const snap = snapshotOf({
    stopped: '{"web":2,"worker":1}',
    'max-replicas': '50',
    'restart-policy': '{"policy":"on-failure","maxRetries":5}',
    builder: '"pack"',
    'build-args': '{"NODE_ENV":"production"}',
    checks: '{"path":"/up","timeout":3}',
    resources: '{"*":{"memoryBytes":536870912},"worker":{"nanoCpus":500000000}}',
    mounts: '["/srv/x:/data:ro"]',
  });
  assert.deepEqual(snap.stopped, { web: 2, worker: 1 });
  assert.equal(snap['max-replicas'], 50);
  assert.deepEqual(snap['restart-policy'], { policy: 'on-failure', maxRetries: 5 });
  assert.equal(snap.builder, 'pack');
  assert.deepEqual(snap['build-args'], { NODE_ENV: 'production' });
  assert.deepEqual(snap.checks, { path: '/up', timeout: 3 });
  assert.deepEqual(snap.resources, { '*': { memoryBytes: 536870912 }, worker: { nanoCpus: 500000000 } });
  assert.deepEqual(snap.mounts, ['/srv/x:/data:ro']);
});

test('a stored value that no longer fits (or is not JSON) reads as the default instead of reaching a rollout', () => {
  const snap = snapshotOf({
    'max-replicas': '0',
    builder: '"rocket"',
    mounts: 'not json',
    resources: '{"*":{"memoryBytes":-1}}',
    unknown: '1',
  });
  assert.equal(snap['max-replicas'], 20);
  assert.equal(snap.builder, null);
  assert.deepEqual(snap.mounts, []);
  assert.deepEqual(snap.resources, {});
});

test('writes are checked against the schema; the default removes the row', () => {
  const rows = new MemoryRows();
  const store = new AppSettingsStore(rows);
  store.write('a', 'max-replicas', 7);
  assert.deepEqual(rows.all('a'), { 'max-replicas': '7' });
  assert.throws(() => store.write('a', 'max-replicas', 0), { code: 'PAAS_ERR_SETTING_INVALID' });
  assert.throws(() => store.write('a', 'mounts', [1] as unknown as string[]), { code: 'PAAS_ERR_SETTING_INVALID' });
  assert.throws(() => store.write('a', 'checks', { path: '/x', bogus: 1 } as never), { code: 'PAAS_ERR_SETTING_INVALID' });
  assert.deepEqual(rows.all('a'), { 'max-replicas': '7' }, 'a refused write changes nothing');
  store.write('a', 'max-replicas', 20);
  store.write('a', 'stopped', { web: 1 });
  assert.deepEqual(rows.all('a'), { stopped: '{"web":1}' });
  store.write('a', 'stopped', null);
  assert.deepEqual(rows.all('a'), {});
});
