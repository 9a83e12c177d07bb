import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { test } from 'node:test';
import { type DeployEvent, DeployHub } from '../../../src/dashboard/deploy-hub.js';
import { RateLimiter } from '../../../src/dashboard/rate-limiter.js';

test('a subscriber mid-push gets the lines so far, then live ones, then done; the push output is unchanged', async () => {
  const hub = new DeployHub();
  const seen: DeployEvent[] = [];
  hub.subscribe('shop', (e) => seen.push(e));
  assert.deepEqual(seen, [{ type: 'idle' }]);
  let out = '';
  const sink = new Writable({
    write(c, _e, cb) {
      out += c.toString();
      cb();
    },
  });
  let release!: () => void;
  const gate = new Promise<void>((r) => {
    release = r;
  });
  const late: DeployEvent[] = [];
  const done = hub.tee(
    'shop',
    sink,
    async (o) => {
      o.write('-----> one\n-----> tw');
      o.write('o\n');
      await gate;
      o.write('-----> three\n');
      return 0;
    },
    () => ({ type: 'done', ok: true, release: 'v3' }),
  );
  await new Promise((r) => setImmediate(r));
  assert.ok(hub.isRunning('shop'));
  hub.subscribe('shop', (e) => late.push(e));
  assert.deepEqual(late, [
    { type: 'line', text: '-----> one' },
    { type: 'line', text: '-----> two' },
  ]);
  release();
  assert.equal(await done, 0);
  assert.equal(out, '-----> one\n-----> two\n-----> three\n');
  assert.deepEqual(late.slice(2), [
    { type: 'line', text: '-----> three' },
    { type: 'done', ok: true, release: 'v3' },
  ]);
  assert.deepEqual(seen.slice(1), late);
  assert.equal(hub.isRunning('shop'), false);
});

test('unsubscribing leaves no listener behind', () => {
  const hub = new DeployHub();
  const off = hub.subscribe('a', () => {});
  assert.equal(hub.listenerCount(), 1);
  off();
  assert.equal(hub.listenerCount(), 0);
});

test('the rate limiter counts per key per window and stays bounded', () => {
  let t = 0;
  const r = new RateLimiter(2, 1000, 3, () => t);
  assert.equal(r.allow('a'), true);
  assert.equal(r.allow('a'), true);
  assert.equal(r.allow('a'), false);
  assert.equal(r.allow('b'), true);
  t = 1000;
  assert.equal(r.allow('a'), true);
  for (const k of ['c', 'd', 'e', 'f']) r.allow(k);
  assert.ok(r.size() <= 3);
});

test('every line reaches a slow client before tee returns (the caller then closes the session); a gone client fails nothing', async () => {
  const hub = new DeployHub();
  let out = '';
  const slow = new Writable({
    write(c, _e, cb) {
      setTimeout(() => {
        out += c.toString();
        cb();
      }, 2);
    },
  });
  const code = await hub.tee(
    'shop',
    slow,
    async (o) => {
      for (let i = 1; i <= 20; i++) o.write(`line ${i}\n`);
      o.write('-----> Release v2 live\n');
      return 0;
    },
    () => ({ type: 'done', ok: true, release: 'v2' }),
  );
  assert.equal(code, 0);
  assert.match(out, /line 20\n-----> Release v2 live\n$/);
  const gone = new Writable({
    write(_c, _e, cb) {
      cb(new Error('channel closed'));
    },
  });
  gone.on('error', () => {}); // the session's own stream handles its errors
  assert.equal(
    await hub.tee(
      'shop',
      gone,
      async (o) => (o.write('x\n'), o.write('y\n'), 0),
      () => ({ type: 'idle' }),
    ),
    0,
  );
});
