import assert from 'node:assert/strict';
import net from 'node:net';
import { test } from 'node:test';
import { acceptsConnections, watchStall } from '../../../../src/proxy/routing/target-liveness.js';
import { Target } from '../../../../src/proxy/routing/target.js';

const tick = (ms: number) => new Promise((r) => setTimeout(r, ms));

test('acceptsConnections: a listening port is alive, a closed one is not', async () => {
  const server = net.createServer((s) => s.destroy());
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const port = (server.address() as net.AddressInfo).port;
  assert.equal(await acceptsConnections('127.0.0.1', port, 1000), true);
  await new Promise<void>((r) => server.close(() => r()));
  assert.equal(await acceptsConnections('127.0.0.1', port, 1000), false);
});

test('a stalled request on a target that stopped accepting connections is reported dead once', async () => {
  const t = new Target('10.0.0.1:80');
  const probes: string[] = [];
  let dead = 0;
  watchStall(t, () => dead++, {
    stallMs: 10,
    probe: async (host, port) => {
      probes.push(`${host}:${port}`);
      return false;
    },
  });
  await tick(60);
  assert.equal(dead, 1);
  assert.deepEqual(probes, ['10.0.0.1:80']);
});

test('a slow target that still accepts connections is checked again while the request waits, and never reported', async () => {
  const t = new Target('10.0.0.2:80');
  let probes = 0;
  let dead = 0;
  const stop = watchStall(t, () => dead++, {
    stallMs: 10,
    reuseMs: 0,
    probe: async () => {
      probes++;
      return true;
    },
  });
  await tick(80);
  stop();
  const seen = probes;
  assert.ok(seen >= 2, `probed again while waiting: ${seen}`);
  await tick(40);
  assert.equal(probes, seen, 'no probe after stop');
  assert.equal(dead, 0);
});

test('requests waiting on one target share its check; a stopped watch is not told', async () => {
  const t = new Target('10.0.0.3:80');
  let probes = 0;
  let release!: (ok: boolean) => void;
  const probe = () => {
    probes++;
    return new Promise<boolean>((r) => {
      release = r;
    });
  };
  const told: string[] = [];
  watchStall(t, () => told.push('a'), { stallMs: 5, probe });
  const stopB = watchStall(t, () => told.push('b'), { stallMs: 5, probe });
  watchStall(t, () => told.push('c'), { stallMs: 5, probe });
  await tick(30);
  assert.equal(probes, 1, 'one check for the three requests');
  stopB();
  release(false);
  await tick(5);
  assert.deepEqual(told.sort(), ['a', 'c']);
});
