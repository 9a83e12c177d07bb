// The Docker-events watcher on a fake clock (node:test mock timers): debounce, lock waits and
// backoff are checked at exact instants instead of racing real sleeps.
import assert from 'node:assert/strict';
import { type TestContext, test } from 'node:test';
import { EventWatcher } from '../../../src/deploy/event-watcher.js';
import { silentLogger } from '../../../src/log/logger.js';
import type { DockerEvent } from '../../../src/runtime/docker-events.js';

/** Lets pending promise callbacks run (convergences are async). */
const settle = async () => {
  for (let i = 0; i < 20; i++) await Promise.resolve();
};

function harness(
  t: TestContext,
  opts: { fail?: (app: string, n: number) => boolean; locked?: Set<string>; own?: (e: DockerEvent) => boolean } = {},
) {
  t.mock.timers.enable({ apis: ['setTimeout', 'Date'], now: 1_000_000 });
  let emit!: (e: DockerEvent) => void;
  let connect!: (reconnected: boolean) => void;
  const calls: string[] = [];
  /** resolves the convergence in progress (each convergence waits for it) */
  const gates: (() => void)[] = [];
  const locked = opts.locked ?? new Set<string>();
  const ac = new AbortController();
  const w = new EventWatcher(
    {
      events: (onEvent, _signal, onConnect) => {
        emit = onEvent;
        connect = onConnect ?? (() => {});
      },
      isOwnEvent: (e) => opts.own?.(e) ?? false,
    },
    {
      convergeApp: async (app) => {
        calls.push(app);
        await new Promise<void>((r) => gates.push(r));
        return !(opts.fail?.(app, calls.filter((a) => a === app).length) ?? false);
      },
    },
    { isLocked: (app) => locked.has(app) },
    () => ['a', 'b'],
    silentLogger(),
    { debounceMs: 30, lockRetryMs: 20, backoffMs: 40, maxBackoffMs: 80 },
  );
  w.start(ac.signal);
  const ev = (app: string | undefined, action: string, id = 'x'): DockerEvent => ({ app, action, id, time: 0 }) as DockerEvent;
  return {
    calls,
    locked,
    stop: () => ac.abort(),
    emit: (app: string | undefined, action: string, id?: string) => emit(ev(app, action, id)),
    connect: (r: boolean) => connect(r),
    /** moves the fake clock and lets what it woke up run */
    async tick(ms: number) {
      t.mock.timers.tick(ms);
      await settle();
    },
    /** finishes every convergence in progress */
    async finish() {
      while (gates.length) gates.shift()!();
      await settle();
    },
  };
}

test('events of one app are debounced into one convergence; other actions, unlabelled events and unknown apps are ignored', async (t) => {
  const h = harness(t);
  try {
    for (let i = 0; i < 5; i++) {
      h.emit('a', i % 2 ? 'die' : 'start');
      await h.tick(5);
    }
    h.emit('b', 'destroy');
    h.emit('b', 'exec_start');
    h.emit('c', 'die'); // not an app of this server
    h.emit(undefined, 'die');
    // a's last event came at 20 ms, b's at 25 ms; now is 25 ms
    await h.tick(24);
    assert.deepEqual(h.calls, [], 'nothing before the debounce has passed');
    await h.tick(1);
    assert.deepEqual(h.calls, ['a'], 'a, 30 ms after its last event');
    await h.tick(5);
    assert.deepEqual(h.calls, ['a', 'b'], 'b, 30 ms after its own');
    await h.finish();
    await h.tick(1000);
    assert.deepEqual(h.calls.sort(), ['a', 'b']);
  } finally {
    h.stop();
  }
});

test("events paas caused itself (its own deploy's starts and stops) converge nothing; a crash among them does", async (t) => {
  const h = harness(t, { own: (e) => e.id.startsWith('own') });
  try {
    h.emit('a', 'start', 'own-new');
    h.emit('a', 'die', 'own-old');
    h.emit('a', 'destroy', 'own-old');
    await h.tick(1000);
    assert.deepEqual(h.calls, [], 'a rollout by paas itself is not followed by a convergence');
    h.emit('a', 'die', 'crashed');
    await h.tick(30);
    assert.deepEqual(h.calls, ['a']);
    await h.finish();
  } finally {
    h.stop();
  }
});

test('an app whose lock is held is converged only once the lock is free', async (t) => {
  const h = harness(t, { locked: new Set(['a']) });
  try {
    h.emit('a', 'die');
    await h.tick(30);
    await h.tick(20 * 10);
    assert.deepEqual(h.calls, [], 'not converged while a deploy holds the lock');
    h.locked.delete('a');
    await h.tick(20);
    assert.deepEqual(h.calls, ['a'], 'converged at the next lock check');
    await h.finish();
  } finally {
    h.stop();
  }
});

test('a failed convergence is retried with backoff until it succeeds; a reconnect converges every app', async (t) => {
  const h = harness(t, { fail: (app, n) => app === 'a' && n <= 2 });
  try {
    h.emit('a', 'die');
    await h.tick(30);
    assert.deepEqual(h.calls, ['a']);
    await h.finish(); // fails
    await h.tick(39);
    assert.deepEqual(h.calls, ['a'], 'no retry before the 40 ms backoff');
    await h.tick(1);
    assert.deepEqual(h.calls, ['a', 'a']);
    await h.finish(); // fails again: the backoff doubles
    await h.tick(79);
    assert.deepEqual(h.calls, ['a', 'a']);
    await h.tick(1);
    assert.deepEqual(h.calls, ['a', 'a', 'a']);
    await h.finish(); // succeeds
    await h.tick(10_000);
    assert.deepEqual(h.calls, ['a', 'a', 'a'], 'quiet after a success');
    h.connect(false);
    await h.tick(1000);
    assert.equal(h.calls.length, 3, 'the first connect converges nothing (recovery just ran)');
    h.connect(true);
    await h.tick(1000);
    assert.deepEqual(h.calls.slice(3).sort(), ['a', 'b'], 'a reconnect (dockerd came back) converges every app');
    await h.finish();
  } finally {
    h.stop();
  }
});

test('events during a convergence cause exactly one more; nothing runs after stop', async (t) => {
  const h = harness(t);
  h.emit('a', 'die');
  await h.tick(30);
  assert.deepEqual(h.calls, ['a']);
  h.emit('a', 'start'); // while converging
  await h.tick(1000);
  assert.deepEqual(h.calls, ['a'], 'not twice at once');
  await h.finish();
  await h.tick(1000);
  assert.deepEqual(h.calls, ['a', 'a'], 'exactly one more after the first finished');
  await h.finish();
  h.emit('a', 'die');
  h.stop();
  await h.tick(1000);
  assert.equal(h.calls.length, 2);
});
