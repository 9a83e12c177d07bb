import assert from 'node:assert/strict';
import { rm } from 'node:fs/promises';
import { after, before, test } from 'node:test';
import { startProxy } from '../../src/proxy/proxy-server.js';
import { silentLogger } from '../../src/log/logger.js';
import { fastCheck, request, startTestProxy, type TestProxy } from './helpers/proxy.js';
import { startUpstream, type Upstream } from './helpers/upstream.js';

// The proxy's side of ps:maintenance / ps:pause: applied at once, kept across deploys, persisted
// with the routes; held requests wait (none dropped) and go on in arrival order.

let proxy: TestProxy;
let up: Upstream;
const spec = () => ({ hosts: ['tc.test'], targets: [up.address], healthCheck: fastCheck });

before(async () => {
  proxy = await startTestProxy();
  up = await startUpstream('tc');
  await proxy.client.deploy('tc', spec());
});
after(async () => {
  await proxy?.stop();
  await up?.close();
});

test('maintenance answers 503 with the message; a deploy keeps it; clearing it serves again', async () => {
  await proxy.client.setControls('tc', { maintenance: 'Back <soon> & better' });
  const r = await request(proxy.port, { host: 'tc.test', path: '/m' });
  assert.equal(r.status, 503);
  assert.match(r.body, /Back &#60;soon&#62; &#38; better/, 'the message is escaped into the page');
  assert.equal(up.hits('/m'), 0);
  await proxy.client.deploy('tc', spec());
  assert.equal((await request(proxy.port, { host: 'tc.test', path: '/m' })).status, 503, 'a deploy dropped maintenance');
  const report = await proxy.client.report();
  assert.equal(report.services[0].maintenance, 'Back <soon> & better');
  await proxy.client.setControls('tc', {});
  assert.equal((await request(proxy.port, { host: 'tc.test', path: '/m' })).status, 200);
});

test('a pause holds requests (none dropped) until cleared, and ends by itself at its deadline', async () => {
  await proxy.client.setControls('tc', { pausedUntil: Date.now() + 30_000 });
  const order: number[] = [];
  const held = [1, 2, 3].map((i) =>
    request(proxy.port, { host: 'tc.test', path: `/held${i}` }).then((r) => {
      order.push(i);
      return r.status;
    }),
  );
  await new Promise((r) => setTimeout(r, 500));
  assert.deepEqual(order, [], 'answered while paused');
  assert.equal(up.hits('/held'), 0);
  await proxy.client.setControls('tc', {});
  assert.deepEqual(await Promise.all(held), [200, 200, 200]);
  await proxy.client.setControls('tc', { pausedUntil: Date.now() + 700 });
  const t0 = Date.now();
  assert.equal((await request(proxy.port, { host: 'tc.test', path: '/deadline' })).status, 200);
  assert.ok(Date.now() - t0 >= 500, 'not held until the deadline');
});

test('controls persist with the routes: a proxy started anew on the data dir is still in maintenance', async () => {
  await proxy.client.setControls('tc', { maintenance: 'persisted' });
  await proxy.handle.close(1000);
  const handle = await startProxy({
    dataDir: proxy.dataDir,
    httpPort: 0,
    httpsPort: 0,
    listen: '127.0.0.1',
    workers: 1,
    logger: silentLogger(),
  });
  try {
    const r = await request(handle.status().httpPort, { host: 'tc.test' });
    assert.equal(r.status, 503);
    assert.match(r.body, /persisted/);
  } finally {
    await handle.close(1000);
    await rm(proxy.dataDir, { recursive: true, force: true });
    proxy = await startTestProxy();
  }
});

test('bad controls are refused by the control API', async () => {
  await assert.rejects(proxy.client.setControls('nosuch', {}), /no service 'nosuch'/);
  await proxy.client.deploy('tc', spec());
  await assert.rejects(proxy.client.setControls('tc', { pausedUntil: -5 } as never), /pausedUntil must be epoch milliseconds/);
  await assert.rejects(proxy.client.setControls('tc', { maintenance: 'x'.repeat(3000) }), /at most 2000/);
});
