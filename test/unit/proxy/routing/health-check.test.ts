import assert from 'node:assert/strict';
import http from 'node:http';
import net, { type AddressInfo } from 'node:net';
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

/** A raw TCP app answering every connection with `response`, recording what it was sent. */
async function rawApp(t: { after: (fn: () => void) => void }, response: string) {
  const seen: string[] = [];
  let open = 0;
  const server = net.createServer((socket) => {
    open++;
    socket.once('close', () => open--);
    socket.once('data', (d) => {
      seen.push(d.toString('latin1'));
      socket.end(response);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.after(() => server.close());
  return { address: `127.0.0.1:${(server.address() as AddressInfo).port}`, seen, open: () => open };
}

test('an HTTP check sends GET with Host, its User-Agent and Connection: close, and keeps no connection', async (t) => {
  const app = await rawApp(t, 'HTTP/1.1 204 No Content\r\nConnection: keep-alive\r\n\r\n');
  const check = new HealthCheck(app.address, { path: '/up?x=1', intervalMs: 1000, timeoutMs: 5_000 });
  for (let i = 0; i < 3; i++) assert.deepEqual(await check.probe(5_000), { ok: true, detail: 'HTTP 204 on GET /up?x=1' });
  const lines = app.seen[0].split('\r\n');
  assert.equal(lines[0], 'GET /up?x=1 HTTP/1.1');
  const headers = new Map(
    lines
      .slice(1)
      .filter(Boolean)
      .map((l) => [l.slice(0, l.indexOf(':')).toLowerCase(), l.slice(l.indexOf(':') + 2)]),
  );
  assert.deepEqual(Object.fromEntries(headers), { host: app.address, 'user-agent': 'paas-proxy-healthcheck', connection: 'close' });
  await new Promise((r) => setTimeout(r, 100));
  assert.equal(app.open(), 0, 'every check closed its connection, even one the app offered to keep');
});

test('an HTTP check reads an app response as leniently as proxied requests do (bare-LF header lines)', async (t) => {
  // Node's strict client parser refuses bare LF line ends; the request path reads them, like nginx
  const app = await rawApp(t, 'HTTP/1.1 200 OK\nContent-Length: 2\nX-Odd: a\n\nok');
  const check = new HealthCheck(app.address, { path: '/', intervalMs: 1000, timeoutMs: 5_000 });
  assert.deepEqual(await check.probe(5_000), { ok: true, detail: 'HTTP 200 on GET /' });
});
