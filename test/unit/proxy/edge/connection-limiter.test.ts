import assert from 'node:assert/strict';
import net from 'node:net';
import { test } from 'node:test';
import { ConnectionLimiter, EDGE_DEFAULTS } from '../../../../src/proxy/edge/edge-limits.js';
import { TrustedProxies } from '../../../../src/util/trusted-proxies.js';

const until = async (cond: () => boolean, what: string) => {
  for (let i = 0; i < 200 && !cond(); i++) await new Promise((r) => setTimeout(r, 10));
  assert.ok(cond(), what);
};

test('the connection caps count per address, refuse over the cap, and give each slot back when its connection closes', async (t) => {
  const limiter = new ConnectionLimiter({ ...EDGE_DEFAULTS, maxConnections: 3, maxConnectionsPerIp: 2 }, new TrustedProxies([]));
  const server = net.createServer((s) => s.on('error', () => {}));
  limiter.countOn(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as net.AddressInfo).port;
  const all: net.Socket[] = [];
  const open = (localAddress: string) => {
    const s = net.connect({ port, host: '127.0.0.1', localAddress });
    s.on('error', () => {});
    all.push(s);
    return s;
  };
  t.after(() => {
    for (const s of all) s.destroy();
    server.close();
  });
  const a = [open('127.0.0.1'), open('127.0.0.1'), open('127.0.0.1')];
  await until(() => limiter.connections + limiter.refused === 3, 'three connections seen');
  assert.equal(limiter.connections, 2, 'two from one address admitted');
  assert.equal(limiter.refused, 1, 'the third from that address refused');
  const b = [open('127.0.0.2'), open('127.0.0.3')];
  await until(() => limiter.connections + limiter.refused === 5, 'five connections seen');
  assert.equal(limiter.connections, 3, 'the global cap holds');
  assert.equal(limiter.refused, 2);
  for (const s of [...a, ...b]) s.destroy();
  await until(() => limiter.connections === 0, `every slot given back (still ${limiter.connections})`);
  // the per-address count went back too: two more from 127.0.0.1 are admitted
  const c = [open('127.0.0.1'), open('127.0.0.1')];
  await until(() => limiter.connections === 2, 'two new connections admitted');
  assert.equal(limiter.refused, 2);
  for (const s of c) s.destroy();
  await until(() => limiter.connections === 0, 'closed again');
});
