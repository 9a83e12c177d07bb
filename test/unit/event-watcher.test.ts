import assert from 'node:assert/strict';
import { test } from 'node:test';
import { EventWatcher } from '../../src/deploy/event-watcher.js';
import { silentLogger } from '../../src/log/logger.js';
import type { DockerEvent } from '../../src/runtime/docker-events.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function harness(opts: { fail?: (app: string, n: number) => boolean; locked?: Set<string> } = {}) {
  let emit!: (e: DockerEvent) => void;
  let connect!: (reconnected: boolean) => void;
  const calls: string[] = [];
  const locked = opts.locked ?? new Set<string>();
  const ac = new AbortController();
  const w = new EventWatcher(
    {
      events: (onEvent, _signal, onConnect) => {
        emit = onEvent;
        connect = onConnect ?? (() => {});
      },
    },
    {
      convergeApp: async (app) => {
        calls.push(app);
        await sleep(5);
        return !(opts.fail?.(app, calls.filter((a) => a === app).length) ?? false);
      },
    },
    { isLocked: (app) => locked.has(app) },
    () => ['a', 'b'],
    silentLogger(),
    { debounceMs: 30, lockRetryMs: 20, backoffMs: 40, maxBackoffMs: 80 },
  );
  w.start(ac.signal);
  const ev = (app: string | undefined, action: string): DockerEvent => ({ app, action, id: 'x', time: 0 }) as DockerEvent;
  return {
    w,
    calls,
    locked,
    stop: () => ac.abort(),
    emit: (app: string | undefined, action: string) => emit(ev(app, action)),
    connect: (r: boolean) => connect(r),
  };
}

test('events of one app are debounced into one convergence; other actions, unlabelled events and unknown apps are ignored', async () => {
  const h = harness();
  try {
    for (let i = 0; i < 5; i++) {
      h.emit('a', i % 2 ? 'die' : 'start');
      await sleep(5);
    }
    h.emit('b', 'destroy');
    h.emit('b', 'exec_start');
    h.emit('c', 'die'); // not an app of this server
    h.emit(undefined, 'die');
    await sleep(120);
    assert.deepEqual(h.calls.sort(), ['a', 'b']);
  } finally {
    h.stop();
  }
});

test('an app whose lock is held is converged only once the lock is free', async () => {
  const h = harness({ locked: new Set(['a']) });
  try {
    h.emit('a', 'die');
    await sleep(150);
    assert.deepEqual(h.calls, [], 'not converged while a deploy holds the lock');
    h.locked.delete('a');
    await sleep(100);
    assert.deepEqual(h.calls, ['a']);
  } finally {
    h.stop();
  }
});

test('a failed convergence is retried with backoff until it succeeds; a reconnect converges every app', async () => {
  const h = harness({ fail: (app, n) => app === 'a' && n <= 2 });
  try {
    h.emit('a', 'die');
    await sleep(400);
    assert.deepEqual(h.calls, ['a', 'a', 'a'], 'two failures then a success, then quiet');
    h.connect(false);
    await sleep(80);
    assert.equal(h.calls.length, 3, 'the first connect converges nothing (recovery just ran)');
    h.connect(true);
    await sleep(120);
    assert.deepEqual(h.calls.slice(3).sort(), ['a', 'b']);
  } finally {
    h.stop();
  }
});

test('events during a convergence cause exactly one more; nothing runs after stop', async () => {
  const h = harness();
  h.emit('a', 'die');
  await sleep(32);
  h.emit('a', 'start'); // while converging
  await sleep(120);
  assert.deepEqual(h.calls, ['a', 'a']);
  h.emit('a', 'die');
  h.stop();
  await sleep(80);
  assert.equal(h.calls.length, 2);
});
