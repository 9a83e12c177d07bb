import assert from 'node:assert/strict';
import { test } from 'node:test';
import { connectionTokens } from '../../../../src/proxy/edge/hop-by-hop.js';

const SKIP = new Set(['close', 'keep-alive', 'upgrade']);

test('a Connection value of only skipped options names nothing, in any case and spacing', () => {
  for (const v of ['keep-alive', 'Keep-Alive', ' keep-alive ', 'close', 'keep-alive, Upgrade', '', ' , ']) {
    assert.equal(connectionTokens(v, SKIP), null, JSON.stringify(v));
  }
  assert.equal(connectionTokens(undefined, SKIP), null);
});

test('the header names a Connection value lists come back lowercase, skipped options left out', () => {
  assert.deepEqual([...(connectionTokens('X-Secret', SKIP) ?? [])], ['x-secret']);
  assert.deepEqual([...(connectionTokens('keep-alive, X-A,x-b ,close', SKIP) ?? [])], ['x-a', 'x-b']);
});

test('keep-alive is only dropped where the caller skips it', () => {
  assert.deepEqual([...(connectionTokens('keep-alive', new Set()) ?? [])], ['keep-alive']);
});
