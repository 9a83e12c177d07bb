import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { test } from 'node:test';
import type { TopRow } from '../../../../src/metrics/metrics-service.js';
import type { PluginApi } from '../../../../src/plugin-host/plugin-api.js';
import { runTop, topTable } from '../../../../plugins/ps/ps-top.js';

const row: TopRow = {
  app: 'shop',
  process: 'web',
  replicas: 2,
  cpuSeconds: 3,
  cpuPercent: 12.345,
  memoryBytes: 50 * 1024 * 1024,
  memoryLimitBytes: 512 * 1024 * 1024,
  networkRxBytes: 1000,
  networkTxBytes: 2000,
  networkRxRate: 2048,
  networkTxRate: null,
  traffic: { requests: 600, requestsPerSecond: 10, p95Seconds: 0.0421, serverErrors: 3 },
};

test('the table: one line per app and process type, rates and the last minute of traffic', () => {
  const text = topTable([row, { ...row, process: 'worker', replicas: 1, traffic: null }], 60);
  assert.match(text, /^APP\s+PROCESS\s+REPLICAS\s+CPU\s+MEMORY\s+NET IN\s+NET OUT\s+REQ\/S\s+P95\s+5XX$/m);
  assert.match(text, /^shop\s+web\s+2\s+12\.3%\s+50\.0M \/ 512\.0M\s+2\.0K\/s\s+-\s+10\.0\s+42ms\s+3$/m);
  assert.match(text, /^shop\s+worker\s+1\s+.*\s+-\s+-\s+-$/m);
  assert.match(text, /last 60s/);
  assert.equal(topTable([], 0), 'no running containers\n');
});

test('watch redraws in place until the session ends, then returns at once', async () => {
  let calls = 0;
  const api = {
    metrics: {
      top: async () => {
        calls++;
        return { windowSeconds: 60, rows: [row] };
      },
    },
  } as unknown as PluginApi;
  const out = new PassThrough();
  let text = '';
  out.on('data', (d) => (text += d));
  const ctl = new AbortController();
  const t0 = Date.now();
  const running = runTop(api, new Set(['shop']), out, { json: false, watch: true, signal: ctl.signal });
  await new Promise((r) => setTimeout(r, 2300));
  ctl.abort();
  await running;
  assert.ok(Date.now() - t0 < 2800, 'ended as soon as the session did');
  assert.equal(calls, 2);
  assert.equal(text.split('\u001b[H\u001b[J').length - 1, 2, 'each frame starts by going home and clearing');
});
