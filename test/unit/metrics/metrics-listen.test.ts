import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatMetricsListen, parseMetricsListen } from '../../../src/config/metrics-listen.js';
import { parseServerConfig } from '../../../src/config/server-config.js';

test('listen addresses: ADDR:PORT, [v6]:PORT, a unix socket, off', () => {
  assert.deepEqual(parseMetricsListen('127.0.0.1:9150'), { kind: 'tcp', host: '127.0.0.1', port: 9150 });
  assert.deepEqual(parseMetricsListen('[::1]:0'), { kind: 'tcp', host: '::1', port: 0 });
  assert.deepEqual(parseMetricsListen('/run/paas/metrics.sock'), { kind: 'unix', path: '/run/paas/metrics.sock' });
  assert.deepEqual(parseMetricsListen('off'), { kind: 'off' });
  assert.equal(formatMetricsListen({ kind: 'tcp', host: '::1', port: 9 }), '[::1]:9');
  for (const bad of [
    '',
    '9150',
    'host:9150',
    '1.2.3.4:99999',
    '127.0.0.1:',
    'relative.sock',
    '/a/../b',
    '0.0.0.0:80 x',
    `/${'x'.repeat(120)}`,
  ])
    assert.equal(typeof parseMetricsListen(bad), 'string', bad);
});

test('--metrics-listen defaults to loopback 9150, reads PAAS_METRICS_LISTEN, and refuses junk with one line', () => {
  assert.deepEqual(parseServerConfig([], {}).metricsListen, { kind: 'tcp', host: '127.0.0.1', port: 9150 });
  assert.deepEqual(parseServerConfig([], { PAAS_METRICS_LISTEN: 'off' }).metricsListen, { kind: 'off' });
  assert.deepEqual(parseServerConfig(['--metrics-listen', '/tmp/m.sock'], {}).metricsListen, { kind: 'unix', path: '/tmp/m.sock' });
  assert.throws(() => parseServerConfig(['--metrics-listen', 'everywhere'], {}), /--metrics-listen: 'everywhere' is not ADDR:PORT/);
});
