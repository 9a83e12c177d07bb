import assert from 'node:assert/strict';
import http from 'node:http';
import { after, before, test } from 'node:test';
import { fastCheck, request, startTestProxy, type TestProxy } from './helpers/proxy.js';
import { startUpstream, type Upstream } from './helpers/upstream.js';

let proxy: TestProxy;
let up: Upstream;

before(async () => {
  proxy = await startTestProxy();
  up = await startUpstream('big');
  await proxy.client.deploy('big', { hosts: ['big.test'], targets: [up.address], healthCheck: fastCheck });
});

after(async () => {
  await proxy?.stop();
  await up?.close();
});

test('a large request body followed by keep-alive reuse of the same connection works', async () => {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const sockets = new Set<unknown>();
  try {
    const big = Buffer.alloc(8 * 1024 * 1024, 0x61);
    for (let round = 0; round < 3; round++) {
      const r1 = await request(proxy.port, { host: 'big.test', method: 'POST', path: '/upload', body: big, agent });
      assert.equal(r1.status, 200);
      assert.equal(r1.json().bodyLength, big.length);
      const r2 = await request(proxy.port, { host: 'big.test', path: '/after', agent });
      assert.equal(r2.status, 200);
      assert.equal(r2.json().url, '/after');
      const r3 = await request(proxy.port, { host: 'big.test', method: 'PUT', path: '/small', body: 'hello', agent });
      assert.equal(r3.json().bodyLength, 5);
      for (const list of Object.values(agent.freeSockets)) for (const s of list ?? []) sockets.add(s);
    }
    assert.equal(sockets.size, 1, 'the client connection was not reused');
  } finally {
    agent.destroy();
  }
});

test('a chunked upload without content-length is streamed through', async () => {
  const body = await new Promise<string>((resolve, reject) => {
    const req = http.request(
      { host: '127.0.0.1', port: proxy.port, method: 'POST', path: '/chunked', headers: { host: 'big.test' } },
      (res) => {
        let s = '';
        res.on('data', (c) => (s += c));
        res.on('end', () => resolve(s));
      },
    );
    req.on('error', reject);
    for (let i = 0; i < 100; i++) req.write(Buffer.alloc(10_000, 0x62));
    req.end();
  });
  assert.equal(JSON.parse(body).bodyLength, 1_000_000);
});
