import assert from 'node:assert/strict';
import { test } from 'node:test';
import { emptyAppFigures, emptyFigures, type ProxyFigures, STATUS_CLASSES } from '../../../src/proxy/edge/request-figures.js';
import { quantile, RequestWindow } from '../../../src/metrics/request-window.js';

function figures(ok: number, errors: number, fast: number, slow: number): ProxyFigures {
  const f = emptyFigures();
  const a = emptyAppFigures();
  a.requests[STATUS_CLASSES.indexOf('2xx')] = ok;
  a.requests[STATUS_CLASSES.indexOf('5xx')] = errors;
  a.buckets[0] = fast; // <= 5 ms
  a.buckets[4] = slow; // 50..100 ms
  f.apps.web = a;
  return f;
}

test('traffic over the window: req/s, 5xx and p95 from the deltas since the oldest point', () => {
  let now = 1_000_000;
  const w = new RequestWindow(60_000, () => now);
  w.add(figures(100, 0, 100, 0));
  now += 30_000;
  w.add(figures(150, 5, 150, 5));
  now += 30_000;
  const t = w.traffic(figures(200 + 100, 10, 210, 100));
  assert.equal(t.seconds, 60);
  const web = t.apps.web;
  assert.equal(web.requests, 210);
  assert.equal(web.serverErrors, 10);
  assert.equal(web.requestsPerSecond, 3.5);
  // 110 fast and 100 slow: the 95th percentile is among the slow ones (50-100 ms)
  assert.ok(web.p95Seconds! > 0.05 && web.p95Seconds! <= 0.1, String(web.p95Seconds));
});

test('points older than the window are let go, one stays at its start', () => {
  let now = 0;
  const w = new RequestWindow(60_000, () => now);
  for (let i = 0; i < 20; i++) {
    w.add(figures(i * 10, 0, i * 10, 0));
    now += 10_000;
  }
  const t = w.traffic(figures(200, 0, 200, 0));
  assert.ok(t.seconds >= 60 && t.seconds <= 70, String(t.seconds));
});

test('quantile interpolates inside a bucket; null without requests', () => {
  assert.equal(quantile(0.95, [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]), null);
  assert.equal(quantile(0.5, [10, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]), 0.0025);
  assert.equal(quantile(0.99, [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 5]), 10);
});
