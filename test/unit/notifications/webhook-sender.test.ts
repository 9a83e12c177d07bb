// One delivery attempt against real sockets on loopback: answers, a refused port, a receiver that
// never answers (the response timeout), one that never accepts (the connect timeout), redirects.
import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { after, before, test } from 'node:test';
import { sendWebhook } from '../../../src/notifications/webhook-sender.js';

let server: http.Server;
let base = '';
const bodies: string[] = [];

before(async () => {
  server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (d) => (body += d));
    req.on('end', () => {
      bodies.push(body);
      if (req.url === '/hang') return;
      if (req.url === '/redirect') return res.writeHead(302, { location: '/ok' }).end();
      if (req.url === '/busy') return res.writeHead(429).end();
      if (req.url === '/gone') return res.writeHead(410).end('no such hook\nat all');
      if (req.url === '/fail') return res.writeHead(503).end('down for maintenance');
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
after(() => {
  server.closeAllConnections();
  server.close();
});

const send = (p: string, timeouts = { connectMs: 1000, responseMs: 300 }) =>
  sendWebhook(new URL(`${base}${p}`), { 'content-type': 'application/json' }, '{"a":1}', timeouts);

test('2xx delivers; the body is sent as is', async () => {
  const r = await send('/ok');
  assert.deepEqual({ ok: r.ok, status: r.status, error: r.error }, { ok: true, status: 204, error: null });
  assert.equal(bodies.at(-1), '{"a":1}');
});

test('5xx and 429 are worth retrying, other 4xx and redirects are not; the answer is kept on one line', async () => {
  const fail = await send('/fail');
  assert.deepEqual(
    { ok: fail.ok, status: fail.status, retry: fail.retry, error: fail.error },
    { ok: false, status: 503, retry: true, error: 'HTTP 503: down for maintenance' },
  );
  assert.equal((await send('/busy')).retry, true);
  const gone = await send('/gone');
  assert.deepEqual({ retry: gone.retry, error: gone.error }, { retry: false, error: 'HTTP 410: no such hook at all' });
  const moved = await send('/redirect');
  assert.deepEqual(
    { ok: moved.ok, retry: moved.retry, error: moved.error },
    { ok: false, retry: false, error: 'HTTP 302 (redirects are not followed)' },
  );
});

test('a receiver that never answers is given up on at the response timeout', async () => {
  const started = Date.now();
  const r = await send('/hang');
  assert.equal(r.ok, false);
  assert.equal(r.retry, true);
  assert.equal(r.error, 'no answer within 300 ms');
  assert.ok(Date.now() - started < 2000);
});

test('a refused connection and a TLS handshake that never completes fail with one line', async () => {
  const closed = net.createServer();
  await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
  const port = (closed.address() as AddressInfo).port;
  closed.close();
  const refused = await sendWebhook(new URL(`http://127.0.0.1:${port}/x`), {}, '{}', { connectMs: 1000, responseMs: 2000 });
  assert.equal(refused.ok, false);
  assert.match(String(refused.error), /^ECONNREFUSED/);
  // https to a TCP server that accepts and never speaks TLS: the handshake is part of connecting
  const silent = net.createServer(() => {});
  await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
  const at = (silent.address() as AddressInfo).port;
  const started = Date.now();
  const mute = await sendWebhook(new URL(`https://127.0.0.1:${at}/x`), {}, '{}', { connectMs: 200, responseMs: 5000 });
  silent.close();
  assert.deepEqual({ ok: mute.ok, retry: mute.retry, error: mute.error }, { ok: false, retry: true, error: 'no connection within 200 ms' });
  assert.ok(Date.now() - started < 2000);
});

test('an aborted signal cancels at once, without retry', async () => {
  const ac = new AbortController();
  const pending = sendWebhook(new URL(`${base}/hang`), {}, '{}', { connectMs: 1000, responseMs: 10_000 }, ac.signal);
  setTimeout(() => ac.abort(), 50);
  const r = await pending;
  assert.deepEqual({ ok: r.ok, retry: r.retry, error: r.error }, { ok: false, retry: false, error: 'cancelled' });
});
