// Which Docker events paas caused itself: one start per started container, everything of a
// claimed container until its destroy; abbreviated ids; entries expire.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { OwnContainerActions } from '../../../src/runtime/own-container-actions.js';

const FULL = 'a1b2c3d4e5f6'.padEnd(64, '0');

test('a started container: its first start is own, a later die (crash) or start (engine restart) is not', () => {
  const own = new OwnContainerActions();
  own.starting(FULL);
  assert.equal(own.isOwn(FULL, 'die'), false, 'a die before anything claimed it is a crash');
  assert.equal(own.isOwn(FULL, 'start'), true);
  assert.equal(own.isOwn(FULL, 'start'), false, 'a second start is the engine restarting it');
  assert.equal(own.size, 0);
});

test('a claimed container (being stopped, or a one-off): every event until its destroy is own, none after', () => {
  const own = new OwnContainerActions();
  own.claim(FULL.slice(0, 12));
  for (const a of ['kill', 'die', 'stop', 'die']) assert.equal(own.isOwn(FULL, a), true, a);
  assert.equal(own.isOwn(FULL, 'destroy'), true);
  assert.equal(own.size, 0, 'forgotten at destroy');
  assert.equal(own.isOwn(FULL, 'die'), false);
  assert.equal(own.isOwn('ffff'.padEnd(64, '1'), 'die'), false, 'another container');
});

test("a container whose removal failed is forgotten: its later events are not paas's doing", () => {
  const own = new OwnContainerActions();
  own.claim(FULL);
  assert.equal(own.isOwn(FULL, 'die'), true);
  own.forget(FULL.slice(0, 12));
  assert.equal(own.isOwn(FULL, 'die'), false);
  assert.equal(own.size, 0);
});

test('entries of containers never destroyed expire, so the memory stays bounded', () => {
  let now = 0;
  const own = new OwnContainerActions(1000, () => now);
  own.claim('c1'.padEnd(64, '0'));
  own.starting('c2'.padEnd(64, '0'));
  now = 1001;
  own.claim('c3'.padEnd(64, '0'));
  assert.equal(own.size, 1);
  assert.equal(own.isOwn('c1'.padEnd(64, '0'), 'die'), false);
});
