import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, test } from 'node:test';
import { rawHeader } from '../../../../src/proxy/upstream/raw-headers.js';
import { UpstreamAgent } from '../../../../src/proxy/upstream/upstream-agent.js';

// A real Node server on loopback: `/hint/N` answers with `Keep-Alive: timeout=N`, `/slow` never answers.
let server: http.Server;
let port = 0;
before(async () => {
  server = http.createServer((req, res) => {
    if (req.url === '/slow') return;
    const hint = /^\/hint\/(\d+)$/.exec(req.url ?? '')?.[1];
    const shout = /^\/HINT\/(\d+)$/.exec(req.url ?? '')?.[1];
    if (shout) res.setHeader('KEEP-ALIVE', `timeout=${shout}`);
    res.writeHead(200, hint ? { 'keep-alive': `timeout=${hint}`, 'content-length': '2' } : { 'content-length': '2' });
    res.end('ok');
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  port = (server.address() as AddressInfo).port;
});
after(() => server.close());

function get(agent: http.Agent, path: string): Promise<{ status: number; reused: boolean }> {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port, path, agent }, (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode ?? 0, reused: req.reusedSocket }));
    });
    req.on('error', reject);
  });
}

const free = (agent: http.Agent) => Object.values(agent.freeSockets).reduce((n, l) => n + (l?.length ?? 0), 0);
const tick = () => new Promise((r) => setImmediate(r));

test('a pooled connection is reused until its idle time runs out, then the sweep closes it', async () => {
  const agent = new UpstreamAgent({ connections: 4, pooledIdleMs: 5_000, activeIdleMs: 60_000 });
  try {
    assert.equal((await get(agent, '/')).reused, false);
    await tick();
    assert.equal(free(agent), 1);
    assert.equal((await get(agent, '/')).reused, true);
    await tick();
    assert.equal(agent.sweep(Date.now()), 1, 'not yet idle long enough');
    assert.equal(agent.sweep(Date.now() + 5_001), 0, 'closed once the idle time ran out');
    await tick();
    assert.equal((await get(agent, '/')).reused, false, 'a new connection after the sweep');
  } finally {
    agent.destroy();
  }
});

test("the upstream's Keep-Alive hint shortens the idle time by Node's 1 s margin; a hint of 1 s is not pooled", async () => {
  const agent = new UpstreamAgent({ connections: 4, pooledIdleMs: 10_000, activeIdleMs: 60_000 });
  try {
    await get(agent, '/hint/3');
    await tick();
    assert.equal(agent.sweep(Date.now() + 1_900), 1);
    assert.equal(agent.sweep(Date.now() + 2_001), 0, 'closed 1 s before the announced 3 s');
    await get(agent, '/hint/1');
    await tick();
    assert.equal(free(agent), 0, 'too short to reuse safely');
  } finally {
    agent.destroy();
  }
});

test('the Keep-Alive hint is read in any case of the header name, and a response without one keeps the agent default', async () => {
  const agent = new UpstreamAgent({ connections: 4, pooledIdleMs: 10_000, activeIdleMs: 60_000 });
  try {
    await get(agent, '/HINT/3');
    await tick();
    assert.equal(agent.sweep(Date.now() + 2_001), 0, 'KEEP-ALIVE: timeout=3 honoured');
    await get(agent, '/');
    await tick();
    assert.equal(agent.sweep(Date.now() + 9_000), 1, 'no hint: the 10 s default');
  } finally {
    agent.destroy();
  }
});

test('rawHeader reads the first Keep-Alive line of raw headers', () => {
  assert.equal(rawHeader(['Content-Type', 'text/plain', 'Keep-Alive', 'timeout=5', 'keep-alive', 'timeout=1'], 'keep-alive'), 'timeout=5');
  assert.equal(rawHeader(['Connection', 'keep-alive', 'Content-Length', '2'], 'keep-alive'), undefined);
  assert.equal(rawHeader(['Keep-Alivex', 'timeout=5', 'Xeep-Alive', 'timeout=5'], 'keep-alive'), undefined);
  assert.equal(rawHeader(undefined, 'keep-alive'), undefined);
});

test('a request whose connection stays silent past the active idle time fails with PAAS_TIMEOUT', async () => {
  const agent = new UpstreamAgent({ connections: 4, pooledIdleMs: 5_000, activeIdleMs: 200 });
  try {
    const started = Date.now();
    const err = await new Promise<NodeJS.ErrnoException>((resolve) => {
      http.get({ host: '127.0.0.1', port, path: '/slow', agent }, () => resolve(new Error('answered'))).on('error', resolve);
    });
    assert.equal(err.code, 'PAAS_TIMEOUT');
    assert.ok(Date.now() - started >= 190, 'not before the idle time');
  } finally {
    agent.destroy();
  }
});
