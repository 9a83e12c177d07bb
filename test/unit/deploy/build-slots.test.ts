import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { test } from 'node:test';
import { BuildSlots } from '../../../src/deploy/build-slots.js';
import { StageOutput } from '../../../src/deploy/stage-output.js';

function output(): { stage: StageOutput; text: () => string } {
  const out = new PassThrough();
  let text = '';
  out.on('data', (d) => (text += d));
  return { stage: new StageOutput(out), text: () => text };
}

const gate = () => {
  let open!: () => void;
  const opened = new Promise<void>((r) => (open = r));
  return { open, opened };
};
const tick = () => new Promise((r) => setImmediate(r));

test('one build at a time by default: the others queue in order and are told their position as it moves', async () => {
  const slots = new BuildSlots({ limits: () => ({ concurrency: 1, minFreeBytes: null }), freeMemory: () => 1e12, memoryWaitMs: 0 });
  const order: string[] = [];
  const gates = [gate(), gate(), gate()];
  const outs = [output(), output(), output()];
  const runs = gates.map((g, i) =>
    slots.run(outs[i]!.stage, new AbortController().signal, async () => {
      order.push(`start ${i}`);
      await g.opened;
      order.push(`end ${i}`);
    }),
  );
  await tick();
  assert.deepEqual(order, ['start 0']);
  assert.deepEqual(slots.status(), { running: 1, queued: 2 });
  assert.match(outs[1]!.text(), /position 1 in the queue \(1 build at a time/);
  assert.match(outs[2]!.text(), /position 2 in the queue/);
  gates[0]!.open();
  await tick();
  await tick();
  assert.deepEqual(order, ['start 0', 'end 0', 'start 1']);
  assert.match(outs[2]!.text(), /position 2 in the queue[\s\S]*position 1 in the queue/, 'told when it moves up');
  gates[1]!.open();
  gates[2]!.open();
  await Promise.all(runs);
  assert.deepEqual(order, ['start 0', 'end 0', 'start 1', 'end 1', 'start 2', 'end 2']);
  assert.deepEqual(slots.status(), { running: 0, queued: 0 });
});

test('concurrency N runs N builds at once; a failed build frees its slot; an aborted waiter leaves the queue', async () => {
  const slots = new BuildSlots({ limits: () => ({ concurrency: 2, minFreeBytes: null }), freeMemory: () => 1e12, memoryWaitMs: 0 });
  const g = gate();
  const a = slots.run(output().stage, new AbortController().signal, () => g.opened);
  const b = slots.run(output().stage, new AbortController().signal, () => Promise.reject(new Error('boom')));
  await assert.rejects(b, /boom/);
  const ac = new AbortController();
  const c = slots.run(output().stage, new AbortController().signal, () => g.opened);
  const d = slots.run(output().stage, ac.signal, () => Promise.resolve());
  await tick();
  assert.deepEqual(slots.status(), { running: 2, queued: 1 });
  ac.abort();
  await assert.rejects(d, (e: { code?: string }) => e.code === 'PAAS_ERR_BUILD_CANCELLED');
  assert.deepEqual(slots.status(), { running: 2, queued: 0 });
  g.open();
  await Promise.all([a, c]);
});

test('below the free-memory floor a build waits, then is refused with one line and never starts', async () => {
  let free = 100 * 1024 * 1024;
  const slots = new BuildSlots({
    limits: () => ({ concurrency: 1, minFreeBytes: 300 * 1024 * 1024 }),
    freeMemory: () => free,
    memoryWaitMs: 50,
    pollMs: 5,
  });
  const o = output();
  let started = false;
  await assert.rejects(
    slots.run(o.stage, new AbortController().signal, async () => {
      started = true;
    }),
    (e: { code?: string; message: string }) =>
      e.code === 'PAAS_ERR_BUILD_LOW_MEMORY' &&
      /free memory 100m is below the build floor of 300m/.test(e.message) &&
      !e.message.includes('\n'),
  );
  assert.equal(started, false);
  assert.match(o.text(), /Waiting up to 0 s: free memory 100m/);
  assert.deepEqual(slots.status(), { running: 0, queued: 0 }, 'the slot is freed');

  // memory that comes back within the wait lets the build start
  const slow = new BuildSlots({
    limits: () => ({ concurrency: 1, minFreeBytes: 300 * 1024 * 1024 }),
    freeMemory: () => free,
    memoryWaitMs: 5000,
    pollMs: 5,
  });
  free = 100 * 1024 * 1024;
  setTimeout(() => (free = 400 * 1024 * 1024), 20);
  assert.equal(await slow.run(output().stage, new AbortController().signal, async () => 'built'), 'built');
});
