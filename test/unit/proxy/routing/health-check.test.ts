import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import { HealthCheck } from '../../../../src/proxy/routing/health-check.js';

test('an unhealthy target is reported by its last whole probe, not by one the deadline cut short', async (t) => {
  let n = 0;
  const server = http.createServer((_req, res) => {
    if (++n === 1) {
      res.statusCode = 500;
      res.end('boom');
    }
    // later requests hang: the deadline cuts the probe short
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.after(() => {
    server.closeAllConnections();
    server.close();
  });
  const address = `127.0.0.1:${(server.address() as AddressInfo).port}`;
  const check = new HealthCheck(address, { path: '/up', intervalMs: 1000, timeoutMs: 60_000 });
  const r = await check.waitHealthy(Date.now() + 400);
  assert.equal(r.healthy, false);
  assert.equal(r.detail, 'HTTP 500 on GET /up');
  assert.equal(r.probes >= 2, true, `a second probe ran (${r.probes})`);
});
