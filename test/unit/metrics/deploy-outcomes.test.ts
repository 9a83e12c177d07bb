import assert from 'node:assert/strict';
import { test } from 'node:test';
import { type DeployRecord, DeployOutcomes } from '../../../src/metrics/deploy-outcomes.js';

test('each finished deploy is reported once, including those that finish after a later one', () => {
  const rows: DeployRecord[] = [
    { id: 1, app: 'a', status: 'succeeded', release: 1 },
    { id: 2, app: 'b', status: 'running', release: null },
    { id: 3, app: 'a', status: 'failed', release: 2 },
  ];
  const d = new DeployOutcomes({
    after: (id) => rows.filter((r) => r.id > id),
    timings: (app, release) => (app === 'a' && release === 1 ? { build: 2500, release: 500 } : undefined),
  });
  assert.deepEqual(d.take(), [
    { app: 'a', result: 'succeeded', stages: { build: 2.5, release: 0.5 } },
    { app: 'a', result: 'failed', stages: {} },
  ]);
  assert.deepEqual(d.take(), []);
  rows[1].status = 'succeeded';
  rows.push({ id: 4, app: 'c', status: 'succeeded', release: null });
  assert.deepEqual(
    d.take().map((o) => [o.app, o.result]),
    [
      ['b', 'succeeded'],
      ['c', 'succeeded'],
    ],
  );
  assert.deepEqual(d.take(), []);
});
