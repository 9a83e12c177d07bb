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
  return { watchedSince: 0, watchTarget: t, canMove: () => moves, targetGone: () => told.push(name) };
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
  watch.add(w);
  watch.sweep(w.watchedSince + 5);
  await tick(1);
  assert.deepEqual(probes, [], 'not checked before it stalled');
  watch.sweep(w.watchedSince + 10);
  await tick(1);
  watch.sweep(w.watchedSince + 20);
  await tick(1);
  assert.deepEqual(told, ['a']);
  assert.deepEqual(probes, ['10.0.0.1:80']);
  watch.close();
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
  watch.add(w);
  watch.sweep(w.watchedSince + 10);
  await tick(1);
  assert.equal(probes, 1);
  watch.sweep(w.watchedSince + 10);
  await tick(1);
  assert.equal(probes, 2, 'checked again once it waited another stall time');
  watch.delete(w);
  watch.sweep(w.watchedSince + 100);
  await tick(1);
  assert.equal(probes, 2, 'no check after it was answered');
  assert.deepEqual(told, []);
  watch.close();
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
  const [a, b, c, d] = [waiting(t, told, 'a'), waiting(t, told, 'b'), waiting(t, told, 'c'), waiting(t, told, 'd', false)];
  for (const w of [a, b, c, d]) watch.add(w);
  watch.sweep(Date.now() + 10);
  assert.equal(probes, 1, 'one check for the three requests that could move');
  watch.delete(b);
  release(false);
  await tick(1);
  assert.deepEqual(told.sort(), ['a', 'c']);
  watch.close();
});

test('the watch arms one interval for all requests, not a timer per request', (t) => {
  const intervals = t.mock.method(globalThis, 'setInterval');
  const timeouts = t.mock.method(globalThis, 'setTimeout');
  const watch = new StallWatch({ probe: async () => true });
  const target = new Target('10.0.0.4:80');
  for (let i = 0; i < 100; i++) watch.add(waiting(target, [], String(i)));
  assert.equal(intervals.mock.callCount(), 1);
  assert.equal(timeouts.mock.callCount(), 0);
  watch.close();
});
