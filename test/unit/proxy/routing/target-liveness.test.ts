import assert from 'node:assert/strict';
import net from 'node:net';
import { test } from 'node:test';
import { acceptsConnections, StallWatch, type StallWatched } from '../../../../src/proxy/routing/target-liveness.js';
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

/** A waiting request as the watch sees it; `moves` says whether another target could take it. */
function waiting(t: Target, told: string[], name: string, moves = true): StallWatched {
  return { watching: true, watchedSince: 0, watchTarget: t, canMove: () => moves, targetGone: () => told.push(name) };
}

test('a stalled request on a target that stopped accepting connections is moved once', async () => {
  const t = new Target('10.0.0.1:80');
  const probes: string[] = [];
  const told: string[] = [];
  const watch = new StallWatch({
    stallMs: 10,
    probe: async (host, port) => {
      probes.push(`${host}:${port}`);
      return false;
    },
  });
  const w = waiting(t, told, 'a');
  watch.sweep(5, [w]);
  await tick(1);
  assert.deepEqual(probes, [], 'not checked before it stalled');
  watch.sweep(10, [w]);
  await tick(1);
  watch.sweep(20, [w]);
  await tick(1);
  assert.deepEqual(told, ['a']);
  assert.equal(w.watching, false);
  assert.deepEqual(probes, ['10.0.0.1:80']);
});

test('a slow target that still accepts connections is checked again while the request waits, and never moved', async () => {
  const t = new Target('10.0.0.2:80');
  let probes = 0;
  const told: string[] = [];
  const watch = new StallWatch({
    stallMs: 10,
    reuseMs: 0,
    probe: async () => {
      probes++;
      return true;
    },
  });
  const w = waiting(t, told, 'a');
  watch.sweep(10, [w]);
  await tick(1);
  assert.equal(probes, 1);
  assert.ok(w.watchedSince > 10, 'waits another stall time before the next check');
  watch.sweep(w.watchedSince + 10, [w]);
  await tick(1);
  assert.equal(probes, 2);
  w.watching = false;
  watch.sweep(w.watchedSince + 100, [w]);
  await tick(1);
  assert.equal(probes, 2, 'no check after it was answered');
  assert.deepEqual(told, []);
});

test('requests waiting on one target share its check; one answered meanwhile is not moved; one with nowhere to go waits', async () => {
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
  const watch = new StallWatch({ stallMs: 5, probe });
  const all = [waiting(t, told, 'a'), waiting(t, told, 'b'), waiting(t, told, 'c'), waiting(t, told, 'd', false)];
  watch.sweep(10, all);
  watch.sweep(20, all);
  assert.equal(probes, 1, 'one check for the three requests that could move, none again while it runs');
  all[1]!.watching = false;
  release(false);
  await tick(1);
  assert.deepEqual(told.sort(), ['a', 'c']);
});
