import assert from 'node:assert/strict';
import http from 'node:http';
import http2 from 'node:http2';
import net from 'node:net';
import { after, before, test } from 'node:test';
import tls from 'node:tls';
import { H2_MAX_STREAMS } from '../../src/proxy/tls/tls-server.js';
import { curl } from './helpers/curl.js';
import { fastCheck, startTestProxy, type TestProxy } from './helpers/proxy.js';
import { startUpstream, type Upstream } from './helpers/upstream.js';

// Slow and hostile clients are bounded and cut, while a normal client (another address,
// 127.0.0.2) keeps getting 200 within 1 s. Limits are set low through the proxy's options.

const IDLE_MS = 1000;
const HEADER_MS = 1500;
const KEEPALIVE_MS = 2000;
const PER_IP = 20;
let proxy: TestProxy;
let up: Upstream;

before(async () => {
  proxy = await startTestProxy({
    limits: {
      idleTimeoutMs: IDLE_MS,
      headerTimeoutMs: HEADER_MS,
      keepAliveTimeoutMs: KEEPALIVE_MS,
      maxConnectionsPerIp: PER_IP,
      maxConnections: 200,
    },
    upstream: { connections: 4, queueTimeoutMs: 500 },
  });
  up = await startUpstream('app');
  await proxy.client.deploy('app', { hosts: ['app.test'], targets: [up.address], healthCheck: fastCheck });
  await proxy.client.deploy('small', { hosts: ['small.test'], targets: [up.address], healthCheck: fastCheck, maxBodyBytes: 1024 * 1024 });
});

after(async () => {
  await proxy?.stop();
  await up?.close();
});

interface Slow {
  socket: net.Socket;
  closed: Promise<number>;
  received: () => string;
}

/** A connection from 127.0.0.1 that sends `first`, then `drip` one byte every `everyMs`; `closed` resolves with its lifetime. */
function slowClient(first: string, drip: string, everyMs: number): Slow {
  const opened = performance.now();
  const socket = net.connect({ port: proxy.port, host: '127.0.0.1', localAddress: '127.0.0.1' });
  let got = '';
  let i = 0;
  let timer: NodeJS.Timeout | undefined;
  socket.on('connect', () => {
    if (first) socket.write(first);
    timer = setInterval(() => {
      if (i >= drip.length) clearInterval(timer);
      else if (!socket.destroyed) socket.write(drip[i++]);
    }, everyMs);
  });
  socket.on('data', (d) => (got += d.toString('latin1')));
  socket.on('error', () => {});
  const closed = new Promise<number>((resolve) =>
    socket.on('close', () => {
      clearInterval(timer);
      resolve(performance.now() - opened);
    }),
  );
  return { socket, closed, received: () => got };
}

/** A normal client from 127.0.0.2 (curl, a fresh connection): 200 within 1 s. */
async function normalClientServed(label: string): Promise<void> {
  const r = await curl(`http://127.0.0.1:${proxy.port}/normal`, ['--interface', '127.0.0.2', '-H', 'Host: app.test']);
  assert.equal(r.status, 200, `${label}: normal client got ${r.status}`);
  assert.ok(r.ms < 1000, `${label}: normal client waited ${Math.round(r.ms)} ms`);
}

test('slowloris on headers: a header line every 300 ms is cut at the header bound (408), others are served meanwhile', async () => {
  const slow = Array.from({ length: 10 }, () => slowClient('GET / HTTP/1.1\r\nHost: app.test\r\n', 'X-Slow: 1\r\n'.repeat(50), 30));
  await new Promise((r) => setTimeout(r, 500));
  await normalClientServed('during header slowloris');
  const lifetimes = await Promise.all(slow.map((s) => s.closed));
  for (const [i, ms] of lifetimes.entries()) {
    assert.ok(ms >= HEADER_MS - 100 && ms < HEADER_MS + 2500, `slow client ${i} lived ${Math.round(ms)} ms`);
    assert.match(slow[i].received(), /^HTTP\/1\.1 408 /, 'answered 408 Request Timeout');
  }
  await normalClientServed('after header slowloris');
});

test('slowloris on the body: a byte every 1.5 s (over the 1 s idle timeout) is cut; others are served meanwhile', async () => {
  const before = up.hits('/upload');
  const head = 'POST /upload HTTP/1.1\r\nHost: app.test\r\nContent-Length: 1000\r\n\r\n';
  const slow = Array.from({ length: 10 }, () => slowClient(head, 'a'.repeat(1000), 1500));
  await new Promise((r) => setTimeout(r, 300));
  await normalClientServed('during body slowloris');
  const lifetimes = await Promise.all(slow.map((s) => s.closed));
  for (const [i, ms] of lifetimes.entries())
    assert.ok(ms >= IDLE_MS - 100 && ms < IDLE_MS + 1500, `slow body ${i} lived ${Math.round(ms)} ms`);
  // bodies are buffered before a target is picked: the slow ones never took an upstream connection
  assert.equal(up.hits('/upload') - before, 0);
  await normalClientServed('after body slowloris');
});

test('a byte every 300 ms of body keeps the connection (under the idle timeout): the bound is idle time, not speed', async () => {
  const head = 'POST /upload HTTP/1.1\r\nHost: app.test\r\nContent-Length: 8\r\n\r\n';
  const s = slowClient(head, 'abcdefgh', 300);
  await s.closed;
  assert.match(s.received(), /^HTTP\/1\.1 200 /);
  assert.match(s.received(), /"bodyLength":8/);
});

test('many idle connections from one address: only the per-address cap is kept, and those are closed when idle', async () => {
  const opened: Array<{ socket: net.Socket; closed: Promise<number> }> = [];
  for (let i = 0; i < 60; i++) {
    const t0 = performance.now();
    const socket = net.connect({ port: proxy.port, host: '127.0.0.1', localAddress: '127.0.0.1' });
    socket.on('error', () => {});
    opened.push({ socket, closed: new Promise((r) => socket.on('close', () => r(performance.now() - t0))) });
  }
  await new Promise((r) => setTimeout(r, 300));
  const alive = opened.filter((o) => !o.socket.destroyed && o.socket.readyState === 'open').length;
  assert.ok(alive <= PER_IP, `${alive} connections from 127.0.0.1 are open (cap ${PER_IP})`);
  assert.ok(alive >= PER_IP - 2, `only ${alive} connections were admitted`);
  await normalClientServed('with 60 idle connections from 127.0.0.1');
  const lifetimes = await Promise.all(opened.map((o) => o.closed));
  assert.ok(Math.max(...lifetimes) < IDLE_MS + 2000, `an idle connection lived ${Math.round(Math.max(...lifetimes))} ms`);
  await normalClientServed('after the idle connections');
});

test('many HTTPS connections from one address, HTTP/2 ones included, count against the same per-address cap', async () => {
  const sessions: Array<{ socket: tls.TLSSocket; secure: Promise<boolean> }> = [];
  for (let i = 0; i < 60; i++) {
    const socket = tls.connect({
      port: proxy.httpsPort,
      host: '127.0.0.1',
      localAddress: '127.0.0.1',
      ALPNProtocols: ['h2'],
      servername: 'app.test',
      rejectUnauthorized: false,
    } as tls.ConnectionOptions);
    socket.on('error', () => {});
    sessions.push({
      socket,
      secure: new Promise((r) => {
        socket.once('secureConnect', () => r(socket.alpnProtocol === 'h2'));
        socket.once('close', () => r(false));
      }),
    });
  }
  const negotiated = (await Promise.all(sessions.map((s) => s.secure))).filter(Boolean).length;
  await new Promise((r) => setTimeout(r, 200));
  const open = sessions.filter((s) => !s.socket.destroyed).length;
  assert.ok(open <= PER_IP, `${open} HTTPS connections from 127.0.0.1 are open (cap ${PER_IP})`);
  assert.ok(negotiated >= PER_IP - 2 && negotiated <= PER_IP, `${negotiated} h2 handshakes completed (cap ${PER_IP})`);
  // another address still gets an answer over HTTP/2 meanwhile
  const client = http2.connect(`https://127.0.0.1:${proxy.httpsPort}`, {
    localAddress: '127.0.0.2',
    rejectUnauthorized: false,
  } as http2.SecureClientSessionOptions);
  client.on('error', () => {});
  const t0 = performance.now();
  const status = await new Promise<number>((resolve, reject) => {
    const req = client.request({ ':path': '/h2', ':authority': 'app.test' });
    req.on('response', (h) => resolve(Number(h[':status'])));
    req.on('error', reject);
    req.end();
  });
  assert.equal(status, 200);
  assert.ok(performance.now() - t0 < 1000, 'the other address was served within 1 s');
  client.destroy();
  for (const s of sessions) s.socket.destroy();
  // the next test needs 127.0.0.1's slots back: wait until the proxy has seen every close
  for (let i = 0; i < 100 && (await proxy.client.report()).clients > 0; i++) await new Promise((r) => setTimeout(r, 20));
});

/** `p`, or a failure once `ms` have passed without it (a bound the proxy does not enforce must fail the test, not hang it). */
function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what} after ${ms} ms`)), ms)));
  return Promise.race([p, late]).finally(() => clearTimeout(timer));
}

/** An HTTP/2 session to the proxy from 127.0.0.1; `closed` resolves with its lifetime in ms. */
function h2Session(): { client: http2.ClientHttp2Session; closed: Promise<number> } {
  const t0 = performance.now();
  const client = http2.connect(`https://127.0.0.1:${proxy.httpsPort}`, {
    localAddress: '127.0.0.1',
    servername: 'app.test',
    rejectUnauthorized: false,
  } as http2.SecureClientSessionOptions);
  client.on('error', () => {});
  return { client, closed: new Promise((r) => client.once('close', () => r(performance.now() - t0))) };
}

test('HTTP/2 sessions with no open stream are closed after the keep-alive timeout, whether they sent a request or not', async () => {
  const silent = h2Session();
  const used = h2Session();
  const status = await new Promise<number>((resolve, reject) => {
    const req = used.client.request({ ':path': '/once', ':authority': 'app.test' });
    req.on('response', (h) => resolve(Number(h[':status'])));
    req.on('error', reject);
    req.resume();
    req.end();
  });
  assert.equal(status, 200);
  // one connection may not carry more requests at once than nginx allows it (Node's default: unlimited)
  assert.equal(used.client.remoteSettings.maxConcurrentStreams, H2_MAX_STREAMS);
  const lifetimes = await within(Promise.all([silent.closed, used.closed]), KEEPALIVE_MS + 3000, 'idle HTTP/2 sessions still open');
  for (const ms of lifetimes)
    assert.ok(ms >= KEEPALIVE_MS - 100 && ms < KEEPALIVE_MS + 1500, `an idle HTTP/2 session lived ${Math.round(ms)} ms`);
});

test('HTTP/2: a request body that stalls past the idle timeout is cancelled; a request that waits longer on its upstream is answered', async () => {
  const { client, closed } = h2Session();
  const uploads = up.hits('/upload');
  const t0 = performance.now();
  const stalled = client.request({ ':path': '/upload', ':method': 'POST', ':authority': 'app.test', 'content-length': '100' });
  stalled.on('error', () => {});
  stalled.write('only the first bytes');
  const slow = client.request({ ':path': `/slow?ms=${IDLE_MS * 2}`, ':authority': 'app.test' });
  let body = '';
  slow.setEncoding('utf8');
  slow.on('data', (d) => (body += d));
  const [stalledEnd, slowStatus] = await Promise.all([
    within(
      new Promise<number>((r) => stalled.once('close', () => r(performance.now() - t0))),
      IDLE_MS + 3000,
      'the stalled HTTP/2 stream is still open',
    ),
    new Promise<number>((resolve, reject) => {
      slow.on('response', (h) => resolve(Number(h[':status'])));
      slow.on('error', reject);
      slow.end();
    }),
  ]);
  assert.equal(stalled.rstCode, http2.constants.NGHTTP2_CANCEL, 'the stalled stream was reset with CANCEL');
  assert.ok(stalledEnd >= IDLE_MS - 100 && stalledEnd < IDLE_MS + 1500, `the stalled stream lived ${Math.round(stalledEnd)} ms`);
  assert.equal(slowStatus, 200);
  await new Promise((r) => slow.once('end', r));
  assert.match(body, /"url":"\/slow\?ms=2000"/);
  // the cut request's stream ends when it closes: none of it may go to the app as if it were whole
  assert.equal(up.hits('/upload'), uploads, 'the cancelled request never reached the app');
  client.destroy();
  await closed;
});

test('a request waiting longer than the queue deadline for a free upstream connection gets 503 with a clear page', async () => {
  // 4 connections per target: four slow requests hold them all
  const agent = new http.Agent({ keepAlive: false });
  const slow = Array.from({ length: 4 }, () =>
    curl(`http://127.0.0.1:${proxy.port}/slow?ms=2500`, ['-H', 'Host: app.test']).catch((e: Error) => ({ status: 0, body: e.message })),
  );
  // the four hold every upstream connection once the proxy reports them in flight (not after a guessed delay)
  for (let i = 0; i < 100; i++) {
    const app = (await proxy.client.report()).services.find((x) => x.name === 'app');
    if (app?.inflight[up.address] === 4) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  const waited = await curl(`http://127.0.0.1:${proxy.port}/queued`, ['-H', 'Host: app.test']);
  assert.equal(waited.status, 503);
  assert.match(waited.body, /busy: every connection to it is in use/);
  assert.ok(waited.ms < 1500, `answered after ${Math.round(waited.ms)} ms (deadline 500 ms)`);
  for (const r of await Promise.all(slow)) assert.equal(r.status, 200);
  agent.destroy();
  assert.equal(up.hits('/queued'), 0, 'the queued request never reached the app');
});

test('a chunked body over the service limit gets 413, as a Content-Length one does; one under it passes', async () => {
  const send = (bytes: number, chunked: boolean) =>
    new Promise<{ status: number; body: string }>((resolve, reject) => {
      const headers: Record<string, string | number> = { host: 'small.test' };
      if (!chunked) headers['content-length'] = bytes;
      const req = http.request({ host: '127.0.0.1', port: proxy.port, method: 'POST', path: '/limit', headers, agent: false }, (res) => {
        let body = '';
        res.on('data', (c) => (body += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      });
      req.on('error', (e) => reject(e));
      const chunk = Buffer.alloc(64 * 1024, 0x61);
      let left = bytes;
      const pump = () => {
        while (left > 0) {
          const n = Math.min(left, chunk.length);
          left -= n;
          if (!req.write(chunk.subarray(0, n))) {
            req.once('drain', pump);
            return;
          }
        }
        req.end();
      };
      pump();
    }).catch((e: NodeJS.ErrnoException) => ({ status: -1, body: e.code ?? e.message }));
  const over = await send(2 * 1024 * 1024, true);
  assert.equal(over.status, 413, `chunked over the limit: ${over.status} ${over.body.slice(0, 80)}`);
  const overCl = await send(2 * 1024 * 1024, false);
  assert.equal(overCl.status, 413);
  const under = await send(512 * 1024, true);
  assert.equal(under.status, 200);
  assert.equal(JSON.parse(under.body).bodyLength, 512 * 1024);
});
