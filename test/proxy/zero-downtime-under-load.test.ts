import assert from 'node:assert/strict';
import http from 'node:http';
import { after, before, test } from 'node:test';
import { fastCheck, request, startTestProxy, type TestProxy } from './helpers/proxy.js';
import { waitFor } from '../helpers/wait.js';
import { startUpstream, type Upstream } from './helpers/upstream.js';

let proxy: TestProxy;
const ups: Upstream[] = [];

before(async () => {
  proxy = await startTestProxy();
  for (const n of ['blue-1', 'blue-2', 'green-1', 'green-2']) ups.push(await startUpstream(n));
});

after(async () => {
  await proxy?.stop();
  for (const u of ups) await u.close();
});

/** kamal-proxy style: 8 clients without pause while 20 deploys alternate target sets. */
async function stress(service: string, keepAlive: boolean) {
  const host = `${service}.test`;
  const blue = [ups[0].address, ups[1].address];
  const green = [ups[2].address, ups[3].address];
  await proxy.client.deploy(service, { hosts: [host], targets: blue, healthCheck: fastCheck });
  let stop = false;
  let ok = 0;
  const failures: string[] = [];
  const seen = new Set<string>();
  const body = 'x'.repeat(3000);
  const clients = Array.from({ length: 8 }, async (_, i) => {
    const agent = keepAlive ? new http.Agent({ keepAlive: true, maxSockets: 1 }) : false;
    try {
      for (let n = 0; !stop; n++) {
        const post = (n + i) % 2 === 0;
        try {
          const r = await request(proxy.port, {
            host,
            agent,
            method: post ? 'POST' : 'GET',
            path: `/c${i}/${n}`,
            body: post ? body : undefined,
          });
          if (r.status !== 200) failures.push(`status ${r.status}`);
          else {
            const j = r.json<{ name: string; bodyLength: number }>();
            if (post && j.bodyLength !== body.length) failures.push(`body ${j.bodyLength}`);
            seen.add(j.name);
            ok++;
          }
        } catch (err) {
          failures.push(`socket ${(err as Error).message}`);
        }
      }
    } finally {
      if (agent) agent.destroy();
    }
  });
  try {
    for (let d = 0; d < 20; d++) {
      // every deploy happens under load: wait for a few more answers first, however slow the machine
      const seen = ok + failures.length;
      await waitFor('more requests before the next deploy', async () => ok + failures.length >= seen + 8);
      await proxy.client.deploy(service, {
        hosts: [host],
        targets: d % 2 === 0 ? green : blue,
        healthCheck: fastCheck,
        drainTimeoutMs: 5000,
      });
    }
  } finally {
    stop = true;
    await Promise.all(clients);
  }
  assert.deepEqual(failures.slice(0, 5), [], `${failures.length} failed requests`);
  assert.deepEqual([...seen].sort(), ['blue-1', 'blue-2', 'green-1', 'green-2']);
  const list = await proxy.client.list();
  const svc = list.find((s) => s.name === service)!;
  assert.deepEqual(svc.targets, blue);
}

test('20 deploys under load with client keep-alive: zero non-2xx, zero socket errors', async () => {
  await stress('ka', true);
});

test('20 deploys under load without client keep-alive: zero non-2xx, zero socket errors', async () => {
  await stress('noka', false);
});

test('the removed target gets no request after deploy() returns', async () => {
  const host = 'after.test';
  await proxy.client.deploy('after', { hosts: [host], targets: [ups[0].address], healthCheck: fastCheck });
  await request(proxy.port, { host });
  await proxy.client.deploy('after', { hosts: [host], targets: [ups[2].address], healthCheck: fastCheck });
  const before = ups[0].requests;
  for (let i = 0; i < 20; i++) assert.equal((await request(proxy.port, { host })).json().name, 'green-1');
  assert.equal(ups[0].requests, before);
});
