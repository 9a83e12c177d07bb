import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import { AccessLog } from '../../../../src/proxy/edge/access-log.js';
import {
  METHODS,
  mergeFigures,
  emptyFigures,
  requestCount,
  serverErrorCount,
  STATUS_CLASSES,
} from '../../../../src/proxy/edge/request-figures.js';
import { RequestMetrics, upstreamReason } from '../../../../src/proxy/edge/request-metrics.js';
import { TrustedProxies } from '../../../../src/util/trusted-proxies.js';

/** A real server whose handler counts every request for service `svc` and answers with the path's status. */
async function serve(metrics: RequestMetrics, t: { after: (fn: () => void) => void }): Promise<number> {
  const svc = { name: 'web1' };
  const server = http.createServer((req, res) => {
    metrics.begin(svc, res, `id-${req.url}`);
    const status = Number((req.url ?? '/200').slice(1)) || 200;
    res.writeHead(status, { 'content-type': 'text/plain' });
    res.end('x'.repeat(10));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.after(() => {
    server.closeAllConnections();
    server.close();
  });
  return (server.address() as AddressInfo).port;
}

function get(port: number, path: string, method = 'GET'): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path, method, agent: false }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    req.end();
  });
}

test('requests are counted by method and status class, with duration, bytes and the access log; none stay in flight', async (t) => {
  const metrics = new RequestMetrics(new TrustedProxies([]));
  const port = await serve(metrics, t);
  await get(port, '/200');
  await get(port, '/200', 'POST');
  await get(port, '/503');
  await get(port, '/404', 'PROPFIND');
  // a response is counted when it closes, a moment after the client has read it
  for (let i = 0; i < 100 && requestCount(metrics.snapshot().apps.web1) < 4; i++) await new Promise((r) => setTimeout(r, 10));
  const f = metrics.snapshot().apps.web1;
  assert.equal(requestCount(f), 4);
  assert.equal(serverErrorCount(f), 1);
  const at = (m: string, c: string) => f.requests[METHODS.indexOf(m as never) * STATUS_CLASSES.length + STATUS_CLASSES.indexOf(c as never)];
  assert.equal(at('GET', '2xx'), 1);
  assert.equal(at('POST', '2xx'), 1);
  assert.equal(at('GET', '5xx'), 1);
  assert.equal(at('other', '4xx'), 1, 'an unknown method is counted as other');
  assert.equal(
    f.buckets.reduce((a, b) => a + b, 0),
    4,
  );
  assert.equal(f.inFlight, 0);
  assert.ok(f.requestBytes > 4 * 30, `request bytes ${f.requestBytes}`);
  assert.ok(f.responseBytes > 4 * 60, `response bytes ${f.responseBytes}`);
  const log = metrics.accessLog('web1', 0, 10);
  assert.deepEqual(
    log.map((e) => [e.method, e.path, e.status, e.client, e.requestId]),
    [
      ['GET', '/200', 200, '127.0.0.1', 'id-/200'],
      ['POST', '/200', 200, '127.0.0.1', 'id-/200'],
      ['GET', '/503', 503, '127.0.0.1', 'id-/503'],
      ['PROPFIND', '/404', 404, '127.0.0.1', 'id-/404'],
    ],
  );
  assert.ok(log.every((e) => e.bytes > 10 && e.durationMs >= 0));
});

test('snapshots of two workers add up; a snapshot is a copy', () => {
  const a = new RequestMetrics(new TrustedProxies([]));
  const svc = { name: 'app' };
  a.upstreamFailed(svc, 'ECONNREFUSED');
  const s1 = a.snapshot();
  a.upstreamFailed(svc, 'PAAS_TIMEOUT');
  const sum = mergeFigures(mergeFigures(emptyFigures(), s1), a.snapshot());
  assert.deepEqual(sum.apps.app.upstreamErrors, [2, 1, 0, 0]);
  assert.equal(sum.workers, 2);
  assert.deepEqual(s1.apps.app.upstreamErrors, [1, 0, 0, 0]);
});

test('upstream failure reasons', () => {
  assert.equal(upstreamReason('ECONNREFUSED'), 0);
  assert.equal(upstreamReason('PAAS_CONNECT_TIMEOUT'), 1);
  assert.equal(upstreamReason('ECONNRESET'), 2);
  assert.equal(upstreamReason(undefined), 3);
});

test('the access log keeps the last entries, and counts those a following reader missed', () => {
  const log = new AccessLog(3);
  const entry = (time: number) => ({
    time,
    app: 'a',
    method: 'GET',
    path: `/${time}`,
    status: 200,
    durationMs: 1,
    bytes: 1,
    client: 'c',
    requestId: `r${time}`,
  });
  const now = Date.now();
  for (let i = 1; i <= 5; i++) log.push(entry(now + i));
  assert.deepEqual(
    log.since(0, 10).map((e) => e.requestId),
    [`r${now + 3}`, `r${now + 4}`, `r${now + 5}`],
  );
  assert.equal(log.dropped, 0, 'nobody followed: nothing counts as dropped');
  // a reader follows now; four more entries wrap the ring of 3 before it reads again
  for (let i = 6; i <= 9; i++) log.push(entry(now + i));
  assert.equal(log.dropped, 1, 'entry 6 was overwritten unread');
  assert.deepEqual(
    log.since(now + 5, 2).map((e) => e.requestId),
    [`r${now + 8}`, `r${now + 9}`],
  );
});
