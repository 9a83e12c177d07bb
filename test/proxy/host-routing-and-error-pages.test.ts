import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { fastCheck, request, startTestProxy, type TestProxy } from './helpers/proxy.js';
import { startUpstream, type Upstream } from './helpers/upstream.js';

let proxy: TestProxy;
let a: Upstream;
let b: Upstream;

before(async () => {
  proxy = await startTestProxy({ bodyLimit: 1024 });
  a = await startUpstream('a');
  b = await startUpstream('b');
  await proxy.client.deploy('app-a', { hosts: ['a.test'], targets: [a.address], healthCheck: fastCheck });
  await proxy.client.deploy('app-b', { hosts: ['b.test', 'www.b.test'], targets: [b.address], healthCheck: fastCheck });
});

after(async () => {
  await proxy?.stop();
  await a?.close();
  await b?.close();
});

test('routes by Host header, case-insensitive and ignoring the port', async () => {
  assert.equal((await request(proxy.port, { host: 'a.test' })).json().name, 'a');
  assert.equal((await request(proxy.port, { host: 'B.Test:8080' })).json().name, 'b');
  assert.equal((await request(proxy.port, { host: 'www.b.test' })).json().name, 'b');
});

test('keeps the original Host and sets X-Forwarded-For/Proto/Host and a request id (client not a trusted proxy)', async () => {
  const r = await request(proxy.port, { host: 'a.test:8080', path: '/p?q=1', headers: { 'x-forwarded-for': '10.9.9.9' } });
  assert.equal(r.status, 200);
  const seen = r.json<{ url: string; headers: Record<string, string> }>();
  assert.equal(seen.url, '/p?q=1');
  assert.equal(seen.headers.host, 'a.test:8080');
  assert.equal(seen.headers['x-forwarded-host'], 'a.test:8080');
  assert.equal(seen.headers['x-forwarded-proto'], 'http');
  // the client is no trusted proxy: its X-Forwarded-For is replaced, not extended
  assert.equal(seen.headers['x-forwarded-for'], '127.0.0.1');
  assert.equal(seen.headers['x-real-ip'], '127.0.0.1');
  assert.match(seen.headers['x-request-id'], /^[0-9a-f]{8}-[0-9a-z]+$/);
  // a client's own id is kept when it is valid (1-128 of A-Z a-z 0-9 . _ : -), replaced when not
  const kept = await request(proxy.port, { host: 'a.test', headers: { 'x-request-id': 'abc-123.4_5:6' } });
  assert.equal(kept.json<{ headers: Record<string, string> }>().headers['x-request-id'], 'abc-123.4_5:6');
  for (const bad of ['abc/123', 'a'.repeat(129), 'x"y', 'a,b']) {
    const replaced = await request(proxy.port, { host: 'a.test', headers: { 'x-request-id': bad } });
    assert.match(replaced.json<{ headers: Record<string, string> }>().headers['x-request-id'], /^[0-9a-f]{8}-[0-9a-z]+$/, bad);
  }
});

test('answers 503 with the HTML page for an unknown host', async () => {
  const r = await request(proxy.port, { host: 'nobody.test' });
  assert.equal(r.status, 503);
  assert.match(String(r.headers['content-type']), /text\/html/);
  assert.match(r.body, /503 Service Unavailable/);
});

test('methods: WebDAV and other extension methods go to the app, TRACE is refused with 405 (it would echo cookies back)', async () => {
  const propfind = await request(proxy.port, { host: 'a.test', method: 'PROPFIND', path: '/dav/' });
  assert.equal(propfind.status, 200);
  assert.equal(propfind.json<{ method: string }>().method, 'PROPFIND');
  const before = a.hits('/trace');
  const trace = await request(proxy.port, { host: 'a.test', method: 'TRACE', path: '/trace' });
  assert.equal(trace.status, 405);
  assert.match(trace.body, /405 Method Not Allowed/);
  assert.equal(a.hits('/trace'), before, 'TRACE never reaches the app');
});

test('answers 413 when the body is over the configured limit', async () => {
  const r = await request(proxy.port, { host: 'a.test', method: 'POST', body: 'x'.repeat(2048) });
  assert.equal(r.status, 413);
});

test('answers 502 with the HTML page when the target refuses connections', async () => {
  const gone = await startUpstream('gone');
  await proxy.client.deploy('app-gone', { hosts: ['gone.test'], targets: [gone.address], healthCheck: fastCheck });
  await gone.close();
  const r = await request(proxy.port, { host: 'gone.test' });
  assert.equal(r.status, 502);
  assert.match(r.body, /502 Bad Gateway/);
  await proxy.client.remove('app-gone');
  assert.equal((await request(proxy.port, { host: 'gone.test' })).status, 503);
});

test('serves HTTPS with the same routes and X-Forwarded-Proto https', async () => {
  const https = await import('node:https');
  const body = await new Promise<string>((resolve, reject) => {
    const req = https.request(
      { host: '127.0.0.1', port: proxy.httpsPort, path: '/', headers: { host: 'a.test' }, rejectUnauthorized: false },
      (res) => {
        let s = '';
        res.on('data', (c) => (s += c));
        res.on('end', () => resolve(s));
      },
    );
    req.on('error', reject);
    req.end();
  });
  const seen = JSON.parse(body) as { name: string; headers: Record<string, string> };
  assert.equal(seen.name, 'a');
  assert.equal(seen.headers['x-forwarded-proto'], 'https');
});

test('control API lists services and rejects a host owned by another service', async () => {
  const list = await proxy.client.list();
  assert.deepEqual(list.map((s) => s.name).sort(), ['app-a', 'app-b']);
  await assert.rejects(proxy.client.deploy('app-c', { hosts: ['a.test'], targets: [] }), { code: 'PAAS_ERR_PROXY_HOST_CONFLICT' });
  await assert.rejects(proxy.client.deploy('app-c', { hosts: ['c.test'], targets: ['nope'] }), { code: 'PAAS_ERR_PROXY_INVALID_SPEC' });
  const st = await proxy.client.status();
  assert.equal(st.httpPort, proxy.port);
  assert.equal(st.services, 2);
});
