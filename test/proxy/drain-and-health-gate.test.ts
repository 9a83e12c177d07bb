import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { fastCheck, request, startTestProxy, type TestProxy } from './helpers/proxy.js';
import { waitFor } from '../helpers/wait.js';
import { startUpstream, type Upstream } from './helpers/upstream.js';

let proxy: TestProxy;
let oldT: Upstream;
let newT: Upstream;
let third: Upstream;

before(async () => {
  proxy = await startTestProxy();
  oldT = await startUpstream('old');
  newT = await startUpstream('new');
  third = await startUpstream('third');
});

after(async () => {
  await proxy?.stop();
  for (const u of [oldT, newT, third]) await u?.close();
});

test('a slow request longer than the swap but shorter than the drain succeeds', async () => {
  await proxy.client.deploy('slow', { hosts: ['slow.test'], targets: [oldT.address], healthCheck: fastCheck });
  const slow = request(proxy.port, { host: 'slow.test', path: '/slow?ms=1500' });
  // the swap happens only once the slow request is in flight on the old target
  await waitFor('the slow request to reach the old target', async () => oldT.hits('/slow?ms=1500') === 1);
  const t0 = Date.now();
  const res = await proxy.client.deploy('slow', {
    hosts: ['slow.test'],
    targets: [newT.address],
    healthCheck: fastCheck,
    drainTimeoutMs: 60_000,
  });
  // lower bounds only: the 1.5 s request had at most a few hundred ms behind it at the swap
  assert.ok(Date.now() - t0 >= 400, 'deploy() returned before the old target drained');
  assert.ok(res.drainedMs >= 400, `drainedMs ${res.drainedMs}`);
  const r = await slow;
  assert.equal(r.status, 200);
  assert.equal(r.json().name, 'old');
  assert.equal((await request(proxy.port, { host: 'slow.test' })).json().name, 'new');
});

test('a request longer than the drain timeout gets 504', async () => {
  await proxy.client.deploy('late', { hosts: ['late.test'], targets: [oldT.address], healthCheck: fastCheck });
  const slow = request(proxy.port, { host: 'late.test', path: '/slow?ms=3000' });
  await waitFor('the slow request to reach the old target', async () => oldT.hits('/slow?ms=3000') === 1);
  const res = await proxy.client.deploy('late', {
    hosts: ['late.test'],
    targets: [newT.address],
    healthCheck: fastCheck,
    drainTimeoutMs: 300,
  });
  assert.ok(res.drainedMs >= 250, `drainedMs ${res.drainedMs}`);
  // cut at the drain timeout: the 3 s request would have answered 200
  const r = await slow;
  assert.equal(r.status, 504);
  assert.match(r.body, /504 Gateway Timeout/);
});

test('a failing health check rejects deploy() and leaves the old target serving', async () => {
  await proxy.client.deploy('gate', { hosts: ['gate.test'], targets: [oldT.address], healthCheck: fastCheck });
  newT.health = 500;
  try {
    const t0 = Date.now();
    await assert.rejects(
      proxy.client.deploy('gate', { hosts: ['gate.test'], targets: [newT.address], healthCheck: fastCheck, deployTimeoutMs: 2000 }),
      (err: Error & { code?: string }) => {
        assert.equal(err.code, 'PAAS_ERR_PROXY_UNHEALTHY');
        assert.match(err.message, new RegExp(`${newT.address}.*HTTP 500`));
        return true;
      },
    );
    assert.ok(Date.now() - t0 >= 1950, 'gave up before the deploy timeout');
    for (let i = 0; i < 5; i++) assert.equal((await request(proxy.port, { host: 'gate.test' })).json().name, 'old');
    assert.deepEqual((await proxy.client.list()).find((s) => s.name === 'gate')?.targets, [oldT.address]);
  } finally {
    newT.health = 200;
  }
});

test('a refused TCP health check (path null) rejects with the connect error', async () => {
  await assert.rejects(
    proxy.client.deploy('tcp', {
      hosts: ['tcp.test'],
      targets: ['127.0.0.1:1'],
      healthCheck: { path: null, intervalMs: 50 },
      deployTimeoutMs: 200,
    }),
    /127\.0\.0\.1:1.*ECONNREFUSED/,
  );
  await proxy.client.deploy('tcp', { hosts: ['tcp.test'], targets: [oldT.address], healthCheck: { path: null, intervalMs: 50 } });
  assert.equal((await request(proxy.port, { host: 'tcp.test' })).json().name, 'old');
});

test('scaling: an added target is health-gated alone, a removed one is drained', async () => {
  await proxy.client.deploy('scale', { hosts: ['scale.test'], targets: [oldT.address], healthCheck: fastCheck });
  oldT.health = 500; // the kept target is not re-checked
  try {
    const up = await proxy.client.deploy('scale', {
      hosts: ['scale.test'],
      targets: [oldT.address, third.address],
      healthCheck: fastCheck,
    });
    assert.deepEqual(up.checked, [third.address]);
  } finally {
    oldT.health = 200;
  }
  const names = new Set<string>();
  for (let i = 0; i < 6; i++) names.add((await request(proxy.port, { host: 'scale.test' })).json<{ name: string }>().name);
  assert.deepEqual([...names].sort(), ['old', 'third']);
  const before = oldT.hits('/slow?ms=1500') + third.hits('/slow?ms=1500');
  const slow = request(proxy.port, { host: 'scale.test', path: '/slow?ms=1500' });
  const slow2 = request(proxy.port, { host: 'scale.test', path: '/slow?ms=1500' });
  await waitFor('both slow requests in flight', async () => oldT.hits('/slow?ms=1500') + third.hits('/slow?ms=1500') === before + 2);
  const down = await proxy.client.deploy('scale', { hosts: ['scale.test'], targets: [oldT.address], healthCheck: fastCheck });
  assert.ok(down.drainedMs >= 300, `drainedMs ${down.drainedMs}`);
  assert.equal((await slow).status, 200);
  assert.equal((await slow2).status, 200);
  for (let i = 0; i < 4; i++) assert.equal((await request(proxy.port, { host: 'scale.test' })).json().name, 'old');
});

test('hosts-only changes apply at once', async () => {
  await proxy.client.deploy('hosts', { hosts: ['h1.test'], targets: [oldT.address], healthCheck: fastCheck });
  const r = await proxy.client.deploy('hosts', { hosts: ['h2.test'], targets: [oldT.address], healthCheck: fastCheck });
  assert.deepEqual(r.checked, []);
  assert.equal((await request(proxy.port, { host: 'h1.test' })).status, 503);
  assert.equal((await request(proxy.port, { host: 'h2.test' })).status, 200);
});
