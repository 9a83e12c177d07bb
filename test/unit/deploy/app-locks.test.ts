import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { setImmediate as turn } from 'node:timers/promises';
import { AppLocks } from '../../../src/deploy/app-locks.js';

interface Deferred<T> {
  promise: Promise<T>;
  resolve: (v: T) => void;
  reject: (e: unknown) => void;
}

function deferred<T = void>(): Deferred<T> {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** Lets every pending promise chain run (a few event-loop turns, no timers). */
async function settle(): Promise<void> {
  for (let i = 0; i < 5; i++) await turn();
}

/** An operation that logs when it starts and ends and runs until `finish` is resolved. */
function op(log: string[], name: string) {
  const finish = deferred<string>();
  const started = deferred();
  const fn = async () => {
    log.push(`${name} start`);
    started.resolve();
    try {
      return await finish.promise;
    } finally {
      log.push(`${name} end`);
    }
  };
  return { fn, finish, started: started.promise };
}

describe('AppLocks', () => {
  test('returns what fn returns and is unlocked afterwards', async () => {
    const locks = new AppLocks();
    assert.equal(locks.isLocked('web'), false);
    const p = locks.withLock('web', 'deploy', async () => 42);
    assert.equal(locks.isLocked('web'), true);
    assert.equal(await p, 42);
    assert.equal(locks.isLocked('web'), false);
  });

  test('operations on one app run one after the other, in call order', async () => {
    const locks = new AppLocks();
    const log: string[] = [];
    const a = op(log, 'a');
    const b = op(log, 'b');
    const c = op(log, 'c');
    const pa = locks.withLock('web', 'deploy a', a.fn);
    const pb = locks.withLock('web', 'deploy b', b.fn);
    const pc = locks.withLock('web', 'deploy c', c.fn);
    await a.started;
    await settle();
    assert.deepEqual(log, ['a start']);

    a.finish.resolve('A');
    await b.started;
    await settle();
    assert.deepEqual(log, ['a start', 'a end', 'b start']);
    assert.equal(locks.isLocked('web'), true);

    b.finish.resolve('B');
    c.finish.resolve('C');
    assert.deepEqual(await Promise.all([pa, pb, pc]), ['A', 'B', 'C']);
    assert.deepEqual(log, ['a start', 'a end', 'b start', 'b end', 'c start', 'c end']);
    assert.equal(locks.isLocked('web'), false);
  });

  test('different apps run in parallel', async () => {
    const locks = new AppLocks();
    const log: string[] = [];
    const web = op(log, 'web');
    const api = op(log, 'api');
    const pWeb = locks.withLock('web', 'deploy', web.fn);
    const pApi = locks.withLock('api', 'deploy', api.fn);
    await Promise.all([web.started, api.started]);
    assert.deepEqual(log, ['web start', 'api start']);
    assert.equal(locks.isLocked('web'), true);
    assert.equal(locks.isLocked('api'), true);

    api.finish.resolve('api done');
    assert.equal(await pApi, 'api done');
    assert.equal(locks.isLocked('api'), false);
    assert.equal(locks.isLocked('web'), true);

    web.finish.resolve('web done');
    assert.equal(await pWeb, 'web done');
    assert.equal(locks.isLocked('web'), false);
  });

  test('a caller that has to wait is told who holds the lock; a free lock calls no onWait', async () => {
    const locks = new AppLocks();
    const log: string[] = [];
    const waits: string[] = [];
    const a = op(log, 'a');
    const b = op(log, 'b');
    const c = op(log, 'c');
    const pa = locks.withLock('web', 'git push', a.fn, (h) => waits.push(`a waits for ${h}`));
    assert.equal(waits.length, 0);
    const pb = locks.withLock('web', 'scale', b.fn, (h) => waits.push(`b waits for ${h}`));
    await a.started;
    const pc = locks.withLock('web', 'config:set', c.fn, (h) => waits.push(`c waits for ${h}`));
    assert.deepEqual(waits, ['b waits for git push', 'c waits for git push']);

    a.finish.resolve('');
    await b.started;
    const d = op(log, 'd');
    const pd = locks.withLock('web', 'rollback', d.fn, (h) => waits.push(`d waits for ${h}`));
    assert.deepEqual(waits, ['b waits for git push', 'c waits for git push', 'd waits for scale']);

    b.finish.resolve('');
    c.finish.resolve('');
    d.finish.resolve('');
    await Promise.all([pa, pb, pc, pd]);
    assert.equal(locks.isLocked('web'), false);
  });

  test('onWait is told the holder even before its fn has started running', async () => {
    const locks = new AppLocks();
    const waits: string[] = [];
    const gate = deferred();
    const pa = locks.withLock('web', 'first', () => gate.promise);
    // synchronously after the first call: the holder is already recorded
    const pb = locks.withLock(
      'web',
      'second',
      async () => {},
      (h) => waits.push(h),
    );
    assert.deepEqual(waits, ['first']);
    gate.resolve();
    await Promise.all([pa, pb]);
  });

  test('a failing fn rejects with its error and releases the lock for the next caller', async () => {
    const locks = new AppLocks();
    const log: string[] = [];
    const a = op(log, 'a');
    const pa = locks.withLock('web', 'deploy', a.fn);
    const pb = locks.withLock('web', 'scale', async () => {
      log.push('b ran');
      return 'B';
    });
    await a.started;
    const boom = new Error('build failed');
    a.finish.reject(boom);
    await assert.rejects(pa, (e) => e === boom);
    assert.equal(await pb, 'B');
    assert.deepEqual(log, ['a start', 'a end', 'b ran']);
    assert.equal(locks.isLocked('web'), false);
  });

  test('a fn that throws synchronously also releases the lock', async () => {
    const locks = new AppLocks();
    await assert.rejects(
      locks.withLock('web', 'deploy', () => {
        throw new Error('sync boom');
      }),
      { message: 'sync boom' },
    );
    assert.equal(locks.isLocked('web'), false);
    assert.equal(await locks.withLock('web', 'deploy', async () => 'next'), 'next');
  });

  test('aborting a waiter rejects it with the abort reason and never runs its fn', async () => {
    const locks = new AppLocks();
    const log: string[] = [];
    const a = op(log, 'a');
    const pa = locks.withLock('web', 'deploy', a.fn);
    await a.started;
    const ac = new AbortController();
    let bRan = false;
    const pb = locks.withLock(
      'web',
      'scale',
      async () => {
        bRan = true;
      },
      undefined,
      ac.signal,
    );
    const reason = new Error('client went away');
    ac.abort(reason);
    await assert.rejects(pb, (e) => e === reason);
    assert.equal(bRan, false);

    // the holder is unaffected and finishes normally
    a.finish.resolve('A');
    assert.equal(await pa, 'A');
    assert.equal(bRan, false);
    assert.deepEqual(log, ['a start', 'a end']);
    assert.equal(locks.isLocked('web'), false);
  });

  test('aborting a waiter in the middle of the queue keeps the later waiter behind the holder', async () => {
    const locks = new AppLocks();
    const log: string[] = [];
    const a = op(log, 'a');
    const c = op(log, 'c');
    const ac = new AbortController();
    const pa = locks.withLock('web', 'a', a.fn);
    const pb = locks.withLock('web', 'b', async () => log.push('b ran'), undefined, ac.signal);
    const pc = locks.withLock('web', 'c', c.fn);
    await a.started;
    ac.abort(new Error('abort b'));
    await assert.rejects(pb, { message: 'abort b' });
    await settle();
    assert.deepEqual(log, ['a start']);
    assert.equal(locks.isLocked('web'), true);

    a.finish.resolve('A');
    await c.started;
    c.finish.resolve('C');
    assert.deepEqual(await Promise.all([pa, pc]), ['A', 'C']);
    assert.deepEqual(log, ['a start', 'a end', 'c start', 'c end']);
    assert.equal(locks.isLocked('web'), false);
  });

  test('aborting after the lock was acquired does not interrupt fn', async () => {
    const locks = new AppLocks();
    const log: string[] = [];
    const a = op(log, 'a');
    const ac = new AbortController();
    const pa = locks.withLock('web', 'deploy', a.fn, undefined, ac.signal);
    await a.started;
    ac.abort();
    await settle();
    a.finish.resolve('A');
    assert.equal(await pa, 'A');
    assert.equal(locks.isLocked('web'), false);
  });

  test('many operations on one app never overlap and leave nothing locked', async () => {
    const locks = new AppLocks();
    let running = 0;
    let maxRunning = 0;
    const order: number[] = [];
    const all = Array.from({ length: 20 }, (_, i) =>
      locks.withLock('web', `op ${i}`, async () => {
        running++;
        maxRunning = Math.max(maxRunning, running);
        await turn();
        order.push(i);
        running--;
        if (i % 3 === 0) throw new Error(`op ${i} failed`);
        return i;
      }),
    );
    const results = await Promise.allSettled(all);
    assert.equal(maxRunning, 1);
    assert.deepEqual(
      order,
      Array.from({ length: 20 }, (_, i) => i),
    );
    assert.deepEqual(
      results.map((r) => r.status),
      Array.from({ length: 20 }, (_, i) => (i % 3 === 0 ? 'rejected' : 'fulfilled')),
    );
    assert.equal(locks.isLocked('web'), false);
  });

  test('the holder keeps the lock when the only waiter aborts: a newcomer still waits for the holder', async () => {
    const locks = new AppLocks();
    const log: string[] = [];
    const a = op(log, 'a');
    const pa = locks.withLock('web', 'a', a.fn);
    await a.started;
    const ac = new AbortController();
    const pb = locks.withLock('web', 'b', async () => log.push('b ran'), undefined, ac.signal);
    ac.abort(new Error('abort b'));
    await assert.rejects(pb, { message: 'abort b' });
    const waits: string[] = [];
    const c = op(log, 'c');
    const pc = locks.withLock('web', 'c', c.fn, (h) => waits.push(h));
    await settle();
    try {
      assert.equal(locks.isLocked('web'), true);
      assert.deepEqual(waits, ['a']);
      assert.deepEqual(log, ['a start']);
    } finally {
      a.finish.resolve('A');
      c.finish.resolve('C');
      await Promise.all([pa, pc]);
    }
    assert.deepEqual(log, ['a start', 'a end', 'c start', 'c end']);
    assert.equal(locks.isLocked('web'), false);
  });

  test('a waiter whose signal is already aborted rejects without running fn', async () => {
    const locks = new AppLocks();
    const gate = deferred();
    const pa = locks.withLock('web', 'a', () => gate.promise);
    const ac = new AbortController();
    ac.abort(new Error('already gone'));
    let ran = false;
    const pb = locks.withLock(
      'web',
      'b',
      async () => {
        ran = true;
      },
      undefined,
      ac.signal,
    );
    const outcome = pb.then(
      () => 'resolved',
      (e: Error) => e.message,
    );
    await settle();
    gate.resolve();
    await pa;
    assert.equal(await outcome, 'already gone');
    assert.equal(ran, false);
  });
});
