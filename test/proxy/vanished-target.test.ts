// A target host that vanishes under requests (a Swarm node cut off): it never answers the requests
// it already has, and stops accepting connections. GETs waiting on it move to another target in
// about two seconds instead of waiting for the 60 s response timeout; a slow target that still
// accepts connections keeps its requests.
import assert from 'node:assert/strict';
import net from 'node:net';
import { after, before, test } from 'node:test';
import { waitFor } from '../helpers/wait.js';
import { fastCheck, request, startTestProxy, type TestProxy } from './helpers/proxy.js';
import { startUpstream, type Upstream } from './helpers/upstream.js';

let proxy: TestProxy;
let b: Upstream;

before(async () => {
  proxy = await startTestProxy();
  b = await startUpstream('b');
});

after(async () => {
  await proxy?.stop();
  await b?.close();
});

/** Accepts connections until the first request head arrives; then stops listening and never answers. */
async function vanishingHost(): Promise<{ address: string; heads: number; close(): void }> {
  const sockets = new Set<net.Socket>();
  const state = { heads: 0 };
  const server = net.createServer((s) => {
    sockets.add(s);
    s.on('error', () => {});
    let buf = '';
    s.on('data', (d) => {
      buf += d.toString('latin1');
      // health probes (GET /up) are answered while the host is up
      if (/^GET \/up /.test(buf) && buf.includes('\r\n\r\n')) {
        s.end('HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok');
        buf = '';
        return;
      }
      if (buf.includes('\r\n\r\n')) {
        state.heads++;
        server.close();
      }
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return {
    address: `127.0.0.1:${(server.address() as net.AddressInfo).port}`,
    get heads() {
      return state.heads;
    },
    close: () => {
      server.close();
      for (const s of sockets) s.destroy();
    },
  };
}

test('GETs waiting on a target that vanished are answered by the other one within seconds; it leaves the rotation', async () => {
  const gone = await vanishingHost();
  try {
    await proxy.client.deploy('vanish', { hosts: ['vanish.test'], targets: [gone.address, b.address], healthCheck: fastCheck });
    const t0 = Date.now();
    const replies = await Promise.all(Array.from({ length: 4 }, (_, i) => request(proxy.port, { host: 'vanish.test', path: `/r${i}` })));
    const ms = Date.now() - t0;
    assert.ok(gone.heads >= 1, 'a request reached the vanishing target');
    for (const r of replies) {
      assert.equal(r.status, 200, r.body.slice(0, 120));
      assert.equal(r.json().name, 'b');
    }
    assert.ok(ms < 5000, `moved in ${ms} ms`);
    await waitFor('the vanished target out of rotation', async () => {
      const svc = (await proxy.client.list()).find((s) => s.name === 'vanish');
      return svc?.healthy[gone.address] === false;
    });
    for (let i = 0; i < 4; i++) assert.equal((await request(proxy.port, { host: 'vanish.test' })).json().name, 'b');
  } finally {
    await proxy.client.remove('vanish');
    gone.close();
  }
});

test('a slow target that still accepts connections keeps its GET (no retry elsewhere)', async () => {
  const slow = await startUpstream('slow');
  try {
    await proxy.client.deploy('slowpair', { hosts: ['slowpair.test'], targets: [slow.address, b.address], healthCheck: fastCheck });
    const before = b.hits('/slow');
    const replies = await Promise.all([0, 1].map(() => request(proxy.port, { host: 'slowpair.test', path: '/slow?ms=2500' })));
    assert.deepEqual(replies.map((r) => r.json().name).sort(), ['b', 'slow']);
    assert.equal(b.hits('/slow') - before, 1, 'the slow target answered its own request');
  } finally {
    await proxy.client.remove('slowpair');
    await slow.close();
  }
});
