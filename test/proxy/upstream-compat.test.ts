import assert from 'node:assert/strict';
import { writeFile, mkdtemp, rm } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { curl } from './helpers/curl.js';
import { fastCheck, startTestProxy, type TestProxy } from './helpers/proxy.js';
import { type BusyboxUpstream, type RawUpstream, startBusyboxCgi, startRawUpstream } from './helpers/raw-upstream.js';
import { startUpstream, type Upstream } from './helpers/upstream.js';

// What nginx serves, paas serves: real upstreams producing each case, curl as the client.

const BIG = 100_000;
let proxy: TestProxy;
let echo: Upstream;
let raw: RawUpstream;
let busybox: BusyboxUpstream;
let tmp: string;
const tcpCheck = { path: null, intervalMs: 50, timeoutMs: 500 };

before(async () => {
  proxy = await startTestProxy({ trustedProxies: ['127.0.0.2/32'] });
  echo = await startUpstream('echo');
  raw = await startRawUpstream({
    '/http10': 'HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\nan HTTP/1.0 body ended by close',
    '/close': `HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nConnection: close\r\n\r\n${'x'.repeat(BIG)}`,
    '/hop':
      'HTTP/1.1 200 OK\r\nConnection: keep-alive, X-Secret-Hop\r\nX-Secret-Hop: 1\r\nKeep-Alive: timeout=5\r\nX-Kept: yes\r\nContent-Length: 2\r\n\r\nok',
    '/barelf': 'HTTP/1.1 200 OK\nContent-Type: text/plain\nX-Bare: lf\nContent-Length: 5\n\nhello',
  });
  busybox = await startBusyboxCgi({
    bare: 'printf "Content-Type: text/plain\\nX-Cgi: yes\\n\\nhello from cgi\\n"',
    post: 'printf "Content-Type: text/plain\\n\\nlen=$CONTENT_LENGTH body=$(head -c "$CONTENT_LENGTH")\\n"',
  });
  await proxy.client.deploy('echo', { hosts: ['echo.test'], targets: [echo.address], healthCheck: fastCheck });
  await proxy.client.deploy('raw', { hosts: ['raw.test'], targets: [raw.address], healthCheck: tcpCheck });
  await proxy.client.deploy('cgi', { hosts: ['cgi.test'], targets: [busybox.address], healthCheck: tcpCheck });
  tmp = await mkdtemp(path.join(os.tmpdir(), 'paas-compat-'));
});

after(async () => {
  await proxy?.stop();
  await echo?.close();
  await raw?.close();
  await busybox?.close();
  if (tmp) await rm(tmp, { recursive: true, force: true });
});

const url = (p = '/') => `http://127.0.0.1:${proxy.port}${p}`;
const seen = (body: string) => JSON.parse(body) as { url: string; method: string; headers: Record<string, string>; bodyLength: number };

test('busybox httpd CGI answering with bare-LF header lines is served (200), not a 502', async () => {
  const r = await curl(url('/cgi-bin/bare'), ['-H', 'Host: cgi.test']);
  assert.equal(r.status, 200, r.body);
  assert.equal(r.headers['x-cgi'], 'yes');
  assert.equal(r.body, 'hello from cgi\n');
});

test('a small chunked upload reaches busybox CGI with a Content-Length (read whole first, as nginx does)', async () => {
  const r = await curl(url('/cgi-bin/post'), [
    '-H',
    'Host: cgi.test',
    '-H',
    'Transfer-Encoding: chunked',
    '--data-binary',
    'hello-chunked',
  ]);
  assert.equal(r.status, 200, r.body);
  assert.equal(r.body, 'len=13 body=hello-chunked\n');
});

test('a raw upstream with bare LF in the status and header lines is served', async () => {
  const r = await curl(url('/barelf'), ['-H', 'Host: raw.test']);
  assert.equal(r.status, 200);
  assert.equal(r.headers['x-bare'], 'lf');
  assert.equal(r.body, 'hello');
});

test('an HTTP/1.0 response and a close-delimited HTTP/1.1 body are served whole', async () => {
  const old = await curl(url('/http10'), ['-H', 'Host: raw.test']);
  assert.equal(old.status, 200);
  assert.equal(old.body, 'an HTTP/1.0 body ended by close');
  const closed = await curl(url('/close'), ['-H', 'Host: raw.test']);
  assert.equal(closed.status, 200);
  assert.equal(closed.body.length, BIG);
  // the client connection is not the upstream's: it is answered chunked, kept alive
  assert.equal(closed.headers['transfer-encoding'], 'chunked');
});

test('response hop-by-hop headers, and those the upstream names in Connection, are stripped', async () => {
  const r = await curl(url('/hop'), ['-H', 'Host: raw.test']);
  assert.equal(r.status, 200);
  assert.equal(r.headers['x-kept'], 'yes');
  assert.equal(r.headers['x-secret-hop'], undefined);
  // the proxy's own Keep-Alive (its client connection's timeout) replaces the upstream's
  assert.notEqual(r.headers['keep-alive'], 'timeout=5');
  assert.equal(r.body, 'ok');
});

test('curl -F of a 2 MiB file (Expect: 100-continue) reaches the app whole', async () => {
  const file = path.join(tmp, '2mib.bin');
  await writeFile(file, Buffer.alloc(2 * 1024 * 1024, 0x5a));
  const r = await curl(url('/upload'), ['-H', 'Host: echo.test', '-F', `file=@${file}`]);
  assert.equal(r.status, 200, r.body);
  assert.ok(
    r.statusLines.some((l) => / 100 /.test(l)),
    `no 100 Continue: ${r.statusLines.join(' | ')}`,
  );
  const s = seen(r.body);
  assert.ok(s.bodyLength > 2 * 1024 * 1024, `upstream got ${s.bodyLength} bytes`);
  assert.equal(s.headers.expect, undefined);
});

test('Keep-Alive, Proxy-Connection, TE and Connection-named headers never reach the app', async () => {
  const r = await curl(url('/h'), [
    '-H',
    'Host: echo.test',
    '-H',
    'Keep-Alive: timeout=5, max=100',
    '-H',
    'Proxy-Connection: keep-alive',
    '-H',
    'TE: trailers',
    '-H',
    'Connection: keep-alive, X-Client-Hop',
    '-H',
    'X-Client-Hop: secret',
    '-H',
    'X-Normal: 1',
  ]);
  assert.equal(r.status, 200, r.body);
  const h = seen(r.body).headers;
  for (const name of ['keep-alive', 'proxy-connection', 'te', 'x-client-hop']) assert.equal(h[name], undefined, `${name} reached the app`);
  assert.equal(h['x-normal'], '1');
});

test('a non-websocket Upgrade (curl --http2 over http, h2c) is answered by the app over HTTP/1.1', async () => {
  const r = await curl(url('/h2c'), ['-H', 'Host: echo.test', '--http2']);
  assert.equal(r.status, 200, r.body);
  const h = seen(r.body).headers;
  assert.equal(h.upgrade, undefined);
  assert.equal(h['http2-settings'], undefined);
  const custom = await curl(url('/other'), ['-H', 'Host: echo.test', '-H', 'Connection: Upgrade', '-H', 'Upgrade: foo/1']);
  assert.equal(custom.status, 200, custom.body);
  assert.equal(seen(custom.body).headers.upgrade, undefined);
});

test('a Host with a trailing dot routes like the name without it', async () => {
  const r = await curl(url('/dot'), ['-H', 'Host: echo.test.']);
  assert.equal(r.status, 200, r.body);
  assert.equal(seen(r.body).url, '/dot');
  const port = await curl(url('/dot'), ['-H', 'Host: ECHO.test.:8080']);
  assert.equal(port.status, 200);
});

test('an untrusted client: X-Forwarded-For/X-Real-IP are its address, an invalid X-Request-Id is new, Forwarded is dropped', async () => {
  const r = await curl(url('/fwd'), [
    '-H',
    'Host: echo.test',
    '-H',
    'X-Forwarded-For: 6.6.6.6',
    '-H',
    'X-Real-IP: 6.6.6.6',
    '-H',
    'X-Request-Id: forged id',
    '-H',
    'Forwarded: for=6.6.6.6;proto=https',
    '-H',
    'X-Forwarded-Proto: https',
  ]);
  const h = seen(r.body).headers;
  assert.equal(h['x-forwarded-for'], '127.0.0.1');
  assert.equal(h['x-real-ip'], '127.0.0.1');
  assert.match(h['x-request-id'], /^[0-9a-f]{8}-[0-9a-z]+$/, 'a space is not allowed in a request id: replaced');
  assert.equal(r.headers['x-request-id'], undefined, 'the app did not set one; the proxy adds none to a 200');
  assert.equal(h.forwarded, undefined);
  assert.equal(h['x-forwarded-proto'], 'http');
});

test('a trusted proxy (--trusted-proxies 127.0.0.2/32): the chain is kept, X-Real-IP is the client, X-Request-Id and Forwarded kept', async () => {
  const r = await curl(url('/fwd'), [
    '--interface',
    '127.0.0.2',
    '-H',
    'Host: echo.test',
    '-H',
    'X-Forwarded-For: 203.0.113.7, 127.0.0.2',
    '-H',
    'X-Request-Id: edge-id-42',
    '-H',
    'Forwarded: for=203.0.113.7;proto=https',
    '-H',
    'X-Forwarded-Proto: https',
  ]);
  const h = seen(r.body).headers;
  assert.equal(h['x-forwarded-for'], '203.0.113.7, 127.0.0.2, 127.0.0.2');
  assert.equal(h['x-real-ip'], '203.0.113.7');
  assert.equal(h['x-request-id'], 'edge-id-42');
  assert.equal(h.forwarded, 'for=203.0.113.7;proto=https');
  assert.equal(h['x-forwarded-proto'], 'https');
});

/** Sends raw bytes to the proxy and returns what it answered before closing (or after 3 s). */
function rawExchange(bytes: string): Promise<string> {
  return new Promise((resolve) => {
    const s = net.connect(proxy.port, '127.0.0.1', () => s.write(bytes));
    let out = '';
    s.on('data', (d) => (out += d.toString('latin1')));
    s.on('error', () => {});
    const t = setTimeout(() => s.destroy(), 3000);
    s.on('close', () => {
      clearTimeout(t);
      resolve(out);
    });
  });
}

test('client requests stay strict: Content-Length with Transfer-Encoding, duplicate Content-Length and bare LF are refused', async () => {
  const before = echo.requests;
  const clte = await rawExchange(
    'POST / HTTP/1.1\r\nHost: echo.test\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nGET /smuggled HTTP/1.1\r\nHost: echo.test\r\n\r\n',
  );
  assert.match(clte, /^HTTP\/1\.1 400 /);
  const dup = await rawExchange('POST / HTTP/1.1\r\nHost: echo.test\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!');
  assert.match(dup, /^HTTP\/1\.1 400 /);
  const lf = await rawExchange('GET / HTTP/1.1\nHost: echo.test\n\n');
  assert.match(lf, /^HTTP\/1\.1 400 /);
  assert.equal(echo.requests, before, 'a refused request reached the app');
  assert.equal(echo.hits('/smuggled'), 0);
});
