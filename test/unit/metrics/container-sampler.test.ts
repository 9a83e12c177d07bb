import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ContainerSampler } from '../../../src/metrics/container-sampler.js';
import type { ContainerUsage } from '../../../src/runtime/container-usage.js';

const usage = (cpu: number, rx: number): ContainerUsage => ({
  cpuSeconds: cpu,
  memoryBytes: 1000,
  memoryLimitBytes: 4000,
  networkRxBytes: rx,
  networkTxBytes: rx / 2,
});

test('readings are cached, shared, summed per process type; rates come from two readings', async () => {
  let now = 0;
  let reads = 0;
  const readings: Record<string, ContainerUsage> = { a: usage(1, 100), b: usage(2, 200), c: usage(5, 0) };
  const s = new ContainerSampler(
    {
      running: async () => [
        { id: 'a', app: 'x', process: 'web' },
        { id: 'b', app: 'x', process: 'web' },
        { id: 'c', app: 'x', process: 'worker' },
        { id: 'gone', app: 'x', process: 'web' },
      ],
      usage: async (id) => {
        reads++;
        if (!readings[id]) throw new Error('no such container');
        return readings[id];
      },
    },
    { maxAgeMs: 5000, now: () => now },
  );
  await Promise.all([s.sample(), s.sample()]);
  assert.equal(reads, 4, 'two callers shared one reading');
  await s.sample();
  assert.equal(reads, 4, 'a young reading is served again');
  let web = s.byProcess('x').find((p) => p.process === 'web')!;
  assert.equal(web.replicas, 2, 'a container gone before its reading is left out');
  assert.equal(web.cpuSeconds, 3);
  assert.equal(web.cpuPercent, null);
  now = 10_000;
  readings.a = usage(6, 1100);
  readings.b = usage(2, 200);
  await s.sample();
  web = s.byProcess('x').find((p) => p.process === 'web')!;
  assert.equal(web.cpuPercent, 50, '5 CPU seconds over 10 s');
  assert.equal(web.networkRxRate, 100);
  assert.equal(web.memoryLimitBytes, 8000);
  assert.deepEqual(s.byProcess('y'), []);
});
