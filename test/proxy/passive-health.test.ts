import assert from 'node:assert/strict';
import http from 'node:http';
import { after, before, test } from 'node:test';
import { fastCheck, request, startTestProxy, type TestProxy } from './helpers/proxy.js';
import { waitFor } from '../helpers/wait.js';
import { startUpstream, type Upstream } from './helpers/upstream.js';

let proxy: TestProxy;
let a: Upstream;
let b: Upstream;

before(async () => {
  proxy = await startTestProxy();
  a = await startUpstream('a');
  b = await startUpstream('b');
  await proxy.client.deploy('pair', { hosts: ['pair.test'], targets: [a.address, b.address], healthCheck: fastCheck });
});

after(async () => {
  await proxy?.stop();
  for (const u of [a, b]) await u?.close();
});

async function healthOf(address: string): Promise<boolean | undefined> {
  const svc = (await proxy.client.list()).find((s) => s.name === 'pair');
  return svc?.healthy[address];
}

async function waitHealth(address: string, want: boolean): Promise<void> {
  await waitFor(`${address} to become ${want ? 'healthy' : 'unhealthy'}`, async () => (await healthOf(address)) === want);
}

test('a target that dies after the deploy: GETs still get 200 from the other one, and it leaves the rotation', async () => {
  assert.equal(await healthOf(a.address), true);
  const port = a.port;
  await a.close();
  // keep-alive and fresh connections alike: every request is answered by b
  const agent = new http.Agent({ keepAlive: true, maxSockets: 4 });
  try {
    for (let i = 0; i < 20; i++) {
      const r = await request(proxy.port, { host: 'pair.test', path: `/after-crash/${i}`, agent: i % 2 === 0 ? agent : false });
      assert.equal(r.status, 200, `request ${i}: ${r.status} ${r.body.slice(0, 80)}`);
      assert.equal(r.json().name, 'b');
    }
    const head = await request(proxy.port, { host: 'pair.test', method: 'HEAD', path: '/head' });
    assert.equal(head.status, 200);
  } finally {
    agent.destroy();
  }
  await waitHealth(a.address, false);
  const before = b.requests;
  for (let i = 0; i < 6; i++) assert.equal((await request(proxy.port, { host: 'pair.test' })).json().name, 'b');
  assert.equal(b.requests - before, 6);

  // back on the same port: the probe puts it back and it gets traffic again
  a = await startUpstream('a', port);
  await waitHealth(a.address, true);
  // the control API reports the probe's verdict as soon as it has it; the serving lane applies the
  // route table with `a` back a moment later (on a slow machine every request of a burst sent in
  // that moment went to b): traffic must reach both within a few seconds
  const names = new Set<string>();
  await waitFor(
    'requests to reach a again',
    async () => {
      for (let i = 0; i < 4; i++) names.add((await request(proxy.port, { host: 'pair.test' })).json<{ name: string }>().name);
      return names.has('a');
    },
    5_000,
  );
  assert.deepEqual([...names].sort(), ['a', 'b']);
});

test('a POST to a refusing target is not retried: 502 page', async () => {
  const dead = await startUpstream('dead');
  await proxy.client.deploy('solo', { hosts: ['solo.test'], targets: [dead.address], healthCheck: fastCheck });
  await dead.close();
  const r = await request(proxy.port, { host: 'solo.test', method: 'POST', path: '/x', body: 'hello' });
  assert.equal(r.status, 502);
  assert.match(r.body, /502 Bad Gateway/);
  // a single target that is down still gets tried (fail open): 502, not 503
  for (let i = 0; i < 4; i++) assert.equal((await request(proxy.port, { host: 'solo.test' })).status, 502);
  await proxy.client.remove('solo');
});
