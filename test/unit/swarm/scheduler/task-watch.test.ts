import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { SwarmService, SwarmTask } from '../../../../src/swarm/scheduler/swarm-replica.js';
import { TaskWatch } from '../../../../src/swarm/scheduler/task-watch.js';

const svc: SwarmService = {
  ID: 's1',
  Spec: { Labels: { 'paas.swarm.app': 'app', 'paas.swarm.process': 'web', 'paas.swarm.replica': '2' } },
};
const t = (id: string, state: string, desired = 'running', created = id): SwarmTask => ({
  ID: id,
  ServiceID: 's1',
  CreatedAt: created,
  DesiredState: desired,
  Status: { State: state },
});
const actions = (w: TaskWatch, tasks: SwarmTask[], services = [svc]) =>
  w.update(services, tasks).map((e) => `${e.action}:${e.app}:${e.replica}`);

test('a first look and a first start make no event (the deploy handles them)', () => {
  const w = new TaskWatch();
  assert.deepEqual(actions(w, [t('a', 'pending')]), []);
  assert.deepEqual(actions(w, [t('a', 'running')]), []);
  assert.deepEqual(actions(w, [t('a', 'running')]), []);
});

test('a lost task is a die; its replacement running is a start', () => {
  const w = new TaskWatch();
  actions(w, [t('a', 'running')]);
  assert.deepEqual(actions(w, [t('a', 'failed', 'shutdown'), t('b', 'pending')]), ['die:app:2']);
  assert.deepEqual(actions(w, [t('a', 'failed', 'shutdown'), t('b', 'starting')]), []);
  assert.deepEqual(actions(w, [t('a', 'failed', 'shutdown'), t('b', 'running')]), ['start:app:2']);
});

test('a task replaced at once (between two looks) is a die and a start; a removed service is no event', () => {
  const w = new TaskWatch();
  actions(w, [t('a', 'running')]);
  assert.deepEqual(actions(w, [t('a', 'shutdown', 'shutdown'), t('b', 'running')]), ['die:app:2', 'start:app:2']);
  assert.deepEqual(actions(w, [], []), []);
});

test('recovering() is true from a lost task until its replacement runs (the watch looks more often meanwhile)', () => {
  const w = new TaskWatch();
  actions(w, [t('a', 'running')]);
  assert.equal(w.recovering(), false);
  actions(w, [t('a', 'failed', 'shutdown'), t('b', 'pending')]);
  assert.equal(w.recovering(), true);
  actions(w, [t('a', 'failed', 'shutdown'), t('b', 'running')]);
  assert.equal(w.recovering(), false);
});
