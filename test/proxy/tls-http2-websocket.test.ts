// HTTPS clients get HTTP/2 by ALPN (upstreams stay HTTP/1.1), HTTP/1.1 clients keep working on the
// same port, and websockets work over HTTPS: a real proxy on loopback, a Node upstream, certificates
// made with openssl.
import assert from 'node:assert/strict';
import http2 from 'node:http2';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { WebSocket } from 'ws';
import { httpsGet } from '../helpers/https-client.js';
import { makeCa, makeCert, type TestCa } from '../helpers/test-certs.js';
import { fastCheck, request, startTestProxy, type TestProxy } from './helpers/proxy.js';
import { startUpstream, type Upstream } from './helpers/upstream.js';

const HOST = 'h2.example.test';
let proxy: TestProxy;
let up: Upstream;
let ca: TestCa;

before(async () => {
  proxy = await startTestProxy();
  up = await startUpstream('h2-app');
  ca = await makeCa(path.join(proxy.dataDir, 'ca'));
  const cert = await makeCert(ca, [HOST]);
  await proxy.client.deploy('h2', { hosts: [HOST, 'plain.example.test'], targets: [up.address], healthCheck: fastCheck });
  await proxy.client.setTls({
    certs: [{ id: 'h2/custom', cert: cert.cert, key: cert.key }],
    hosts: { [HOST]: { cert: 'h2/custom', redirect: true, hsts: true } },
  });
});
after(async () => {
  await up?.close();
  await proxy?.stop();
});

function h2request(
  session: http2.ClientHttp2Session,
  method: string,
  urlPath: string,
  body?: string,
): Promise<{ status: number; headers: http2.IncomingHttpHeaders; body: string }> {
  return new Promise((resolve, reject) => {
    const req = session.request({ ':method': method, ':path': urlPath, ...(body ? { 'content-type': 'text/plain' } : {}) });
    let data = '';
    let headers: http2.IncomingHttpHeaders = {};
    req.setEncoding('utf8');
    req.on('response', (h) => (headers = h));
    req.on('data', (d) => (data += d));
    req.on('end', () => resolve({ status: Number(headers[':status']), headers, body: data }));
    req.on('error', reject);
    req.end(body);
  });
}

test('HTTP/2 by ALPN: many streams on one connection, bodies both ways, HSTS; upstream sees HTTP/1.1 with Host and X-Forwarded-Proto', async () => {
  const session = http2.connect(`https://${HOST}:${proxy.httpsPort}`, {
    ca: ca.pem,
    servername: HOST,
    host: '127.0.0.1',
  } as http2.SecureClientSessionOptions);
  await new Promise<void>((resolve, reject) => {
    session.once('connect', () => resolve());
    session.once('error', reject);
  });
  assert.equal(session.alpnProtocol, 'h2');
  const replies = await Promise.all(Array.from({ length: 20 }, (_, i) => h2request(session, 'GET', `/n/${i}?q=${i}`)));
  for (const [i, r] of replies.entries()) {
    assert.equal(r.status, 200);
    const echo = JSON.parse(r.body);
    assert.equal(echo.url, `/n/${i}?q=${i}`);
    assert.equal(echo.headers.host, `${HOST}:${proxy.httpsPort}`);
    assert.equal(echo.headers['x-forwarded-proto'], 'https');
    assert.equal(
      Object.keys(echo.headers).some((k: string) => k.startsWith(':')),
      false,
      'no pseudo-header reaches the upstream',
    );
    assert.equal(r.headers['strict-transport-security'], 'max-age=31536000');
    assert.equal(r.headers.connection, undefined);
  }
  const big = 'x'.repeat(300_000);
  const post = await h2request(session, 'POST', '/upload', big);
  assert.equal(post.status, 200);
  assert.equal(JSON.parse(post.body).bodyLength, big.length);
  const missing = await h2request(session, 'GET', '/', undefined);
  assert.equal(missing.status, 200);
  session.close();

  // a text/plain body is streamed up, not parsed away by fastify (over HTTP/1.1 too)
  const plain = await request(proxy.port, {
    host: 'plain.example.test',
    method: 'POST',
    body: big,
    headers: { 'content-type': 'text/plain' },
  });
  assert.equal(plain.status, 200);
  assert.equal(plain.json().bodyLength, big.length);

  // an HTTP/1.1 client on the same port
  const one = await httpsGet(proxy.httpsPort, HOST, { ca: ca.pem });
  assert.equal(one.status, 200);
  assert.equal(JSON.parse(one.body).headers['x-forwarded-proto'], 'https');

  // HSTS is added to the upstream's headers, not merged over them: both of its cookies arrive
  const cookies = await httpsGet(proxy.httpsPort, HOST, { ca: ca.pem, path: '/cookies' });
  assert.equal(cookies.status, 200);
  assert.deepEqual(cookies.headers['set-cookie'], ['a=1; Path=/', 'b=2; Path=/']);
  assert.equal(cookies.headers['strict-transport-security'], 'max-age=31536000');
});

test('websockets work over HTTPS (wss), through the same SNI certificate', async () => {
  const opts = { ca: ca.pem, servername: HOST, headers: { host: HOST } };
  const ws = new WebSocket(`wss://127.0.0.1:${proxy.httpsPort}/chat`, opts as ConstructorParameters<typeof WebSocket>[2]);
  const messages: string[] = [];
  await new Promise<void>((resolve, reject) => {
    ws.on('message', (m) => {
      messages.push(m.toString());
      if (messages.length === 1) ws.send('ping');
      if (messages.length === 2) resolve();
    });
    ws.once('error', reject);
  });
  ws.close();
  assert.deepEqual(messages, ['hello from h2-app', 'h2-app: ping']);
});
