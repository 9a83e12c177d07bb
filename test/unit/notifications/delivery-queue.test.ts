// The per-receiver delivery queue with a scripted sender: retries and their backoff, which
// answers end a delivery at once, the bound on waiting deliveries, lanes that never wait for
// each other, and a removed receiver.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { silentLogger } from '../../../src/log/logger.js';
import { type Delivery, type DeliveryOutcome, DeliveryQueue, type RetryPolicy } from '../../../src/notifications/delivery-queue.js';
import type { SendResult } from '../../../src/notifications/webhook-sender.js';

const result = (ok: boolean, status: number | null, retry = !ok): SendResult => ({
  ok,
  status,
  error: ok ? null : `HTTP ${status}`,
  retry,
  ms: 1,
});
const d = (id: string, event = 'deploy.failed'): Delivery => ({ id, event, body: `{"id":"${id}"}` });

function harness(
  answer: (receiver: string, d: Delivery, n: number, signal: AbortSignal) => Promise<SendResult>,
  policy: Partial<RetryPolicy> = {},
) {
  const attempts: { receiver: string; id: string; at: number }[] = [];
  const outcomes: { receiver: string; o: DeliveryOutcome; id?: string }[] = [];
  const waiters: (() => void)[] = [];
  const q = new DeliveryQueue({
    attempt: (receiver, del, signal) => {
      attempts.push({ receiver, id: del.id, at: Date.now() });
      return answer(receiver, del, attempts.filter((a) => a.id === del.id && a.receiver === receiver).length, signal);
    },
    onOutcome: (receiver, o) => {
      outcomes.push({ receiver, o });
      for (const w of waiters.splice(0)) w();
    },
    policy: { maxAttempts: 3, baseDelayMs: 20, maxDelayMs: 1000, maxQueued: 10, ...policy },
    log: silentLogger(),
  });
  const outcome = (n: number) =>
    new Promise<void>((resolve) => {
      const check = () => (outcomes.length >= n ? resolve() : waiters.push(check));
      check();
    });
  return { q, attempts, outcomes, outcome };
}

test('a failing receiver is retried with doubling waits up to maxAttempts, then the failure is reported once', async () => {
  const h = harness(async () => result(false, 500));
  h.q.enqueue('r', d('1'));
  await h.outcome(1);
  assert.equal(h.attempts.length, 3);
  const gaps = [h.attempts[1]!.at - h.attempts[0]!.at, h.attempts[2]!.at - h.attempts[1]!.at];
  assert.ok(gaps[0]! >= 18 && gaps[1]! >= 38, `waits 20 then 40 ms: ${gaps}`);
  assert.deepEqual(
    { ...h.outcomes[0]!.o, at: '' },
    { event: 'deploy.failed', ok: false, status: 500, error: 'HTTP 500', attempts: 3, at: '' },
  );
});

test('success after a retry, and an answer not worth retrying (410), end the delivery at once', async () => {
  const h = harness(async (_r, del, n) => (del.id === '1' ? result(n === 2, n === 2 ? 200 : 502) : result(false, 410, false)));
  h.q.enqueue('r', d('1'));
  h.q.enqueue('r', d('2'));
  await h.outcome(2);
  assert.deepEqual(
    h.outcomes.map((x) => [x.o.ok, x.o.status, x.o.attempts]),
    [
      [true, 200, 2],
      [false, 410, 1],
    ],
  );
});

test('a hanging receiver holds only its own lane; a full lane drops its oldest waiting delivery', async () => {
  const h = harness(
    (receiver, _d, _n, signal) =>
      receiver === 'slow'
        ? new Promise((resolve) => signal.addEventListener('abort', () => resolve(result(false, null, false))))
        : Promise.resolve(result(true, 200)),
    { maxQueued: 2 },
  );
  for (const id of ['a', 'b', 'c', 'd']) h.q.enqueue('slow', d(id));
  h.q.enqueue('fast', d('x'));
  await h.outcome(1);
  assert.deepEqual(
    h.outcomes.map((x) => x.receiver),
    ['fast'],
  );
  // 'a' is in flight, 'b' was dropped for 'd'
  assert.deepEqual(h.q.stats('slow'), { queued: 3, dropped: 1 });
  assert.deepEqual(h.q.stats('fast'), { queued: 0, dropped: 0 });
  // removing the receiver cancels what is in flight and forgets the rest, without an outcome
  h.q.forget('slow');
  await new Promise((r) => setTimeout(r, 20));
  assert.deepEqual(h.q.stats('slow'), { queued: 0, dropped: 0 });
  assert.deepEqual(
    h.attempts.filter((a) => a.receiver === 'slow').map((a) => a.id),
    ['a'],
  );
  assert.equal(h.outcomes.length, 1);
});

test('enqueue returns at once, before any attempt finishes', () => {
  const h = harness(() => new Promise(() => {}));
  const started = process.hrtime.bigint();
  for (let i = 0; i < 50; i++) h.q.enqueue(`r${i % 5}`, d(String(i)));
  assert.ok(Number(process.hrtime.bigint() - started) / 1e6 < 50);
  assert.equal(h.q.stats('r0').queued, 10);
  h.q.close();
});
