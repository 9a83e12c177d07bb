import assert from 'node:assert/strict';
import { test } from 'node:test';
import { PROXY_NODE_FLAGS, proxyExecArgv } from '../../../../src/proxy/process/proxy-node-flags.js';

test('the proxy runs without V8 memory reducer', () => {
  assert.ok(PROXY_NODE_FLAGS.includes('--no-memory-reducer'));
});

test('proxyExecArgv adds the flags after the given options, once', () => {
  assert.deepEqual(proxyExecArgv(['--import', 'tsx']), ['--import', 'tsx', ...PROXY_NODE_FLAGS]);
  assert.deepEqual(proxyExecArgv(proxyExecArgv([])), [...PROXY_NODE_FLAGS]);
});
