import assert from 'node:assert/strict';
import { test } from 'node:test';
import { HistorySampler } from '../../../src/dashboard/history-sampler.js';
import { MetricsHistory } from '../../../src/dashboard/metrics-history.js';
import { emptyAppFigures, emptyFigures } from '../../../src/proxy/edge/request-figures.js';

const sample = (n2xx: number, memory = 100) => ({
  counts: [n2xx, 0, 0, 6] as [number, number, number, number],
  buckets: [n2xx, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 6],
  cpuSeconds: 30,
  memory,
  restarts: 1,
});

test('minute points for a day, ten-minute points for a week, null where nothing was recorded', () => {
  let now = 1_700_000_000_000;
  const h = new MetricsHistory(() => now);
  const m0 = Math.floor(now / 60_000);
  h.record('shop', m0 - 2, sample(60));
  h.record('shop', m0, sample(120, 200));
  const hour = h.app('shop', 3600);
  assert.equal(hour.step, 60);
  assert.equal(hour.t.length, 60);
  assert.equal(hour.t.at(-1), m0 * 60);
  assert.deepEqual(hour.rps['2xx'].slice(-3), [1, null, 2]);
  assert.deepEqual(hour.rps['5xx'].slice(-1), [0.1]);
  assert.deepEqual(hour.cpu.slice(-1), [0.5]);
  assert.deepEqual(hour.memory.slice(-1), [200]);
  assert.deepEqual(hour.restarts.slice(-1), [1]);
  assert.ok((hour.p50.at(-1) ?? 1) <= 0.005);
  assert.ok((hour.p99.at(-1) ?? 0) > 10 - 1e-9);
  const day = h.app('shop', 86_400);
  assert.equal(day.t.length, 1440);
  const week = h.app('shop', 7 * 86_400);
  assert.equal(week.step, 600);
  assert.equal(week.t.length, 1008);
  assert.ok(week.rps['2xx'].some((v) => v !== null));
  // a day later the minute points are gone, the ten-minute ones kept
  now += 86_400_000 + 600_000;
  assert.ok(h.app('shop', 86_400).rps['2xx'].every((v) => v === null));
  h.record('shop', Math.floor(now / 60_000), sample(0));
  assert.ok(h.app('shop', 7 * 86_400).rps['2xx'].filter((v) => v !== null).length >= 1);
  const unknown = h.app('nosuch', 3600);
  assert.ok(unknown.rps['2xx'].every((v) => v === null));
});

test('the overview sums classes, survives a JSON round trip, and drops destroyed apps', () => {
  const now = 1_700_000_000_000;
  const h = new MetricsHistory(() => now);
  const m = Math.floor(now / 60_000);
  h.record('shop', m, sample(54));
  h.record('blog', m, sample(0));
  const o = h.overview(['shop'], 3600);
  assert.deepEqual(Object.keys(o.apps), ['shop']);
  assert.equal(o.apps.shop!.rps.at(-1), 1);
  assert.equal(o.apps.shop!.err5xx.at(-1), 6);
  const copy = new MetricsHistory(() => now);
  copy.load(JSON.parse(JSON.stringify(h.toJSON())));
  assert.deepEqual(copy.app('shop', 3600), h.app('shop', 3600));
  copy.load({ apps: { bad: 'x', worse: { minutes: { slots: [1], data: [] } } } });
  copy.retain(new Set(['blog']));
  assert.equal(copy.appCount(), 1);
});

test('the sampler records deltas of the cumulative counters and restarts from zero after a reset', async () => {
  let now = 1_700_000_000_000;
  const figures = emptyFigures();
  const shop = emptyAppFigures();
  figures.apps.shop = shop;
  let cpu = 10;
  const restarts = new Map([['shop\0web', 2]]);
  const h = new MetricsHistory(() => now);
  const s = new HistorySampler(
    {
      figures: async () => structuredClone(figures),
      usage: async () => [{ app: 'shop', cpuSeconds: cpu, memoryBytes: 5 }],
      restarts: () => restarts,
      apps: () => ['shop'],
    },
    h,
    () => now,
  );
  await s.tick();
  shop.requests[1] = 120; // GET 2xx
  shop.buckets[0] = 120;
  cpu = 40;
  restarts.set('shop\0web', 3);
  now += 60_000;
  await s.tick();
  let p = h.app('shop', 3600);
  assert.equal(p.rps['2xx'].at(-1), 2);
  assert.equal(p.cpu.at(-1), 0.5);
  assert.equal(p.restarts.at(-1), 1);
  shop.requests[1] = 60; // the proxy came back: counts from zero
  now += 60_000;
  await s.tick();
  p = h.app('shop', 3600);
  assert.equal(p.rps['2xx'].at(-1), 1);
});
