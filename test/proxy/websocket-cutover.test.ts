import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { WebSocket } from 'ws';
import { fastCheck, startTestProxy, type TestProxy } from './helpers/proxy.js';
import { startUpstream, type Upstream } from './helpers/upstream.js';

let proxy: TestProxy;
let blue: Upstream;
let green: Upstream;
const sockets: WebSocket[] = [];

before(async () => {
  proxy = await startTestProxy();
  blue = await startUpstream('blue');
  green = await startUpstream('green');
});

after(async () => {
  for (const s of sockets) s.terminate();
  await proxy?.stop();
  await blue?.close();
  await green?.close();
});

function connect(): Promise<{ ws: WebSocket; first: string; next: () => Promise<string> }> {
  const ws = new WebSocket(`ws://127.0.0.1:${proxy.port}/socket`, { headers: { host: 'ws.test' } });
  sockets.push(ws);
  const queue: string[] = [];
  const waiters: Array<(s: string) => void> = [];
  ws.on('message', (d) => {
    const w = waiters.shift();
    if (w) w(d.toString());
    else queue.push(d.toString());
  });
  const next = () =>
    new Promise<string>((resolve, reject) => {
      const q = queue.shift();
      if (q !== undefined) return resolve(q);
      const t = setTimeout(() => reject(new Error('no websocket message within 3 s')), 3000);
      waiters.push((s) => {
        clearTimeout(t);
        resolve(s);
      });
    });
  return new Promise((resolve, reject) => {
    ws.once('open', async () => resolve({ ws, first: await next(), next }));
    ws.once('error', reject);
  });
}

// the drain timeout is 10 minutes and the test timeout 1: an open websocket holding the drain fails the test
test('a websocket on a retired target is closed with 1012 and its reconnect reaches the new target', { timeout: 60_000 }, async () => {
  await proxy.client.deploy('ws', { hosts: ['ws.test'], targets: [blue.address], healthCheck: fastCheck });
  const c1 = await connect();
  assert.equal(c1.first, 'hello from blue');
  c1.ws.send('ping');
  assert.equal(await c1.next(), 'blue: ping');
  const closed = new Promise<number>((resolve) => c1.ws.once('close', (code) => resolve(code)));
  const res = await proxy.client.deploy('ws', {
    hosts: ['ws.test'],
    targets: [green.address],
    healthCheck: fastCheck,
    drainTimeoutMs: 600_000,
  });
  assert.deepEqual(res.checked, [green.address]);
  assert.equal(await closed, 1012);
  const c2 = await connect();
  assert.equal(c2.first, 'hello from green');
  c2.ws.send('again');
  assert.equal(await c2.next(), 'green: again');
  c2.ws.close();
});

test('a websocket upgrade for an unknown host is refused', async () => {
  const ws = new WebSocket(`ws://127.0.0.1:${proxy.port}/`, { headers: { host: 'nobody.test' } });
  sockets.push(ws);
  const status = await new Promise<number>((resolve) => {
    ws.once('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
    ws.once('error', () => resolve(-1));
  });
  assert.equal(status, 503);
});
