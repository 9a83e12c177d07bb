import assert from 'node:assert/strict';
import http from 'node:http';
import http2 from 'node:http2';
import type { AddressInfo, Socket } from 'node:net';
import { test } from 'node:test';
import v8 from 'node:v8';
import vm from 'node:vm';
import { WebSocket, WebSocketServer } from 'ws';
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
import { openAndEcho, refusedStatus } from '../../../helpers/ws-client.js';

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

test("the access log keeps paths as bytes and the worker's own ids as numbers, and gives both back as written", () => {
  const log = new AccessLog(4, 'ab12cd34-');
  const long = `/${'x'.repeat(100)}?q=1`;
  const now = Date.now();
  const rows: Array<[string, number | string]> = [
    ['/a/longer/path?with=query', 35],
    ['/b', 'client-given.id_1'],
    [long, 1295],
    ['/caf\u00e9/\u2603', 7],
  ];
  for (const [i, [path, id]] of rows.entries()) log.write(now + i, 'web', 'GET', path, 200, 1.5, 10, '192.0.2.1', id);
  // the second lap writes a shorter path over a longer one: nothing of the older path is left
  log.write(now + 4, 'web', 'POST', '/', 201, 0.1, 0, '192.0.2.2', 36);
  assert.deepEqual(
    log.since(0, 10).map((e) => [e.method, e.path, e.requestId, e.status]),
    [
      ['GET', '/b', 'client-given.id_1', 200],
      ['GET', long, 'ab12cd34-zz', 200],
      ['GET', '/caf\u00e9/\u2603', 'ab12cd34-7', 200],
      ['POST', '/', 'ab12cd34-10', 201],
    ],
  );
});

test('the access log keeps no path string: a ring of fresh paths costs the heap what a ring of one path does', () => {
  v8.setFlagsFromString('--expose-gc');
  const gc = vm.runInNewContext('gc') as () => void;
  const heapAfter = (fill: (log: AccessLog, i: number) => void): number => {
    gc();
    const before = process.memoryUsage().heapUsed;
    const log = new AccessLog(20_000, 'p-');
    for (let i = 0; i < 40_000; i++) fill(log, i);
    gc();
    const grown = process.memoryUsage().heapUsed - before;
    assert.equal(log.since(0, 1).length, 1);
    return grown;
  };
  const same = heapAfter((log, i) => log.write(i + 1, 'web', 'GET', '/', 200, 1, 1, '192.0.2.1', i));
  // paths as the server hands them over: a new string per request
  const fresh = heapAfter((log, i) =>
    log.write(i + 1, 'web', 'GET', `/items/${i}/details?page=${i % 7}&sort=name`, 200, 1, 1, '192.0.2.1', i),
  );
  // kept, 20,000 such paths would be over 1 MB
  assert.ok(fresh - same < 400_000, `fresh strings grew the heap ${fresh} bytes against ${same}`);
});

/** Waits until `check` holds (figures are taken when a response or connection closes, just after the client saw it). */
async function until(check: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 200 && !check(); i++) await new Promise((r) => setTimeout(r, 10));
  assert.ok(check(), what);
}

test('HTTP/2 requests count their bytes from the connection: a body each way, over several streams of one session', async (t) => {
  const metrics = new RequestMetrics(new TrustedProxies([]));
  const svc = { name: 'h2app' };
  const server = http2.createServer((req, res) => {
    metrics.begin(svc, res as unknown as http.ServerResponse, 'h2-id');
    req.resume();
    req.on('end', () => res.end('r'.repeat(3000)));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.after(() => server.close());
  const session = http2.connect(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
  t.after(() => session.close());
  const post = () =>
    new Promise<number>((resolve, reject) => {
      const req = session.request({ ':method': 'POST', ':path': '/up' });
      let n = 0;
      req.on('data', (d: Buffer) => (n += d.length));
      req.on('end', () => resolve(n));
      req.on('error', reject);
      req.end('q'.repeat(2000));
    });
  assert.equal(await post(), 3000);
  await until(() => requestCount(metrics.snapshot().apps.h2app ?? ({ requests: [] as number[] } as never)) === 1, 'first stream counted');
  const one = metrics.snapshot().apps.h2app;
  assert.ok(one.requestBytes >= 2000 && one.requestBytes < 2600, `request bytes ${one.requestBytes}`);
  assert.ok(one.responseBytes >= 3000 && one.responseBytes < 3600, `response bytes ${one.responseBytes}`);
  assert.deepEqual(await Promise.all([post(), post(), post()]), [3000, 3000, 3000]);
  await until(() => requestCount(metrics.snapshot().apps.h2app) === 4, 'four streams counted');
  const all = metrics.snapshot().apps.h2app;
  // concurrent streams share the connection's bytes; the sum is the connection's
  assert.ok(all.requestBytes >= 8000 && all.requestBytes < 9000, `request bytes ${all.requestBytes}`);
  assert.ok(all.responseBytes >= 12000 && all.responseBytes < 13000, `response bytes ${all.responseBytes}`);
  const log = metrics.accessLog('h2app', 0, 10);
  assert.equal(log.length, 4);
  assert.equal(
    log.reduce((n, e) => n + e.bytes, 0),
    all.responseBytes,
  );
  assert.ok(log[0].bytes >= 3000, 'the first stream alone on its connection: its own bytes');
});

/** A server whose websocket upgrades are counted for `svc`; `/refuse` is answered 503, anything else accepted by ws. */
async function wsServer(metrics: RequestMetrics, t: { after: (fn: () => void) => void }): Promise<number> {
  const svc = { name: 'wsapp' };
  const wss = new WebSocketServer({ noServer: true });
  wss.on('connection', (ws) => ws.on('message', (m) => ws.send(`echo ${m}`)));
  const server = http.createServer();
  server.on('upgrade', (req, socket: Socket, head) => {
    metrics.beginUpgrade(svc, req, socket, `ws-${req.url}`);
    if (req.url === '/refuse') {
      metrics.upgradeAnswered(socket, 503);
      socket.end('HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\nConnection: close\r\n\r\n');
      return;
    }
    if (req.url === '/silent') {
      // never answered: the client gives up, and the server closes its half
      socket.resume();
      socket.once('end', () => socket.destroy());
      return;
    }
    metrics.upgradeAnswered(socket, 101);
    wss.handleUpgrade(req, socket, head, (ws) => wss.emit('connection', ws, req));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.after(() => {
    for (const c of wss.clients) c.terminate();
    server.closeAllConnections();
    server.close();
  });
  return (server.address() as AddressInfo).port;
}

test('a websocket is in flight while open and counted once closed: GET 1xx, its bytes, an access log entry with status 101', async (t) => {
  const metrics = new RequestMetrics(new TrustedProxies([]));
  const port = await wsServer(metrics, t);
  const ws = new WebSocket(`ws://127.0.0.1:${port}/chat`);
  assert.equal((await openAndEcho(ws, 'x'.repeat(5000))).length, 5005);
  let f = metrics.snapshot().apps.wsapp;
  assert.equal(f.inFlight, 1, 'open: in flight');
  assert.equal(requestCount(f), 0, 'counted when it closes');
  ws.close();
  await until(() => metrics.snapshot().apps.wsapp.inFlight === 0, 'closed: out of flight');
  f = metrics.snapshot().apps.wsapp;
  const at = (m: string, c: string) => f.requests[METHODS.indexOf(m as never) * STATUS_CLASSES.length + STATUS_CLASSES.indexOf(c as never)];
  assert.equal(at('GET', '1xx'), 1);
  assert.equal(requestCount(f), 1);
  assert.equal(
    f.buckets.reduce((a, b) => a + b, 0),
    1,
  );
  assert.ok(f.requestBytes > 5000, `request bytes ${f.requestBytes}`);
  assert.ok(f.responseBytes > 5000, `response bytes ${f.responseBytes}`);
  const [e] = metrics.accessLog('wsapp', 0, 10);
  assert.deepEqual([e.method, e.path, e.status, e.requestId], ['GET', '/chat', 101, 'ws-/chat']);
  assert.equal(e.bytes, f.responseBytes);
});

test('a websocket upgrade refused by the proxy counts with its status; one never answered as 499', async (t) => {
  const metrics = new RequestMetrics(new TrustedProxies([]));
  const port = await wsServer(metrics, t);
  const refused = new WebSocket(`ws://127.0.0.1:${port}/refuse`);
  const status = await refusedStatus(refused);
  assert.equal(status, 503);
  const silent = new WebSocket(`ws://127.0.0.1:${port}/silent`, { handshakeTimeout: 200 });
  await new Promise((r) => silent.once('error', r));
  await until(() => requestCount(metrics.snapshot().apps.wsapp) === 2, `both counted: ${JSON.stringify(metrics.accessLog('wsapp', 0, 9))}`);
  const f = metrics.snapshot().apps.wsapp;
  assert.equal(serverErrorCount(f), 1);
  assert.equal(f.inFlight, 0);
  assert.deepEqual(
    metrics
      .accessLog('wsapp', 0, 10)
      .map((e) => [e.path, e.status, e.client])
      .sort(),
    [
      ['/refuse', 503, '127.0.0.1'],
      ['/silent', 499, '127.0.0.1'],
    ],
  );
});

/** GET /200 with an X-Forwarded-For header. */
function getWithXff(port: number, xff: string): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    http
      .get({ host: '127.0.0.1', port, path: '/200', agent: false, headers: { 'x-forwarded-for': xff } }, (res) => {
        res.resume();
        res.on('end', () => resolve());
      })
      .on('error', reject);
  });
}

test("the access log's client is the address behind trusted proxies, and the peer itself when it is not one", async (t) => {
  const metrics = new RequestMetrics(new TrustedProxies(['127.0.0.1/32']));
  const port = await serve(metrics, t);
  await getWithXff(port, '203.0.113.9');
  await getWithXff(port, '198.51.100.7, 203.0.113.10');
  await until(() => metrics.accessLog('web1', 0, 10).length === 2, 'both logged');
  assert.deepEqual(
    metrics.accessLog('web1', 0, 10).map((e) => e.client),
    ['203.0.113.9', '203.0.113.10'],
  );
  const untrusted = new RequestMetrics(new TrustedProxies(['10.0.0.0/8']));
  await getWithXff(await serve(untrusted, t), '203.0.113.9');
  await until(() => untrusted.accessLog('web1', 0, 10).length === 1, 'logged');
  assert.equal(untrusted.accessLog('web1', 0, 10)[0].client, '127.0.0.1', 'a peer that is no trusted proxy cannot choose its address');
});
