// Where a build's memory limit comes from, and how its time limit is written back (issue 21 hole 5).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { buildMemory, DEFAULT_BUILD_MEMORY, formatDuration } from '../../../src/deploy/build-limiter.js';

const MiB = 1024 ** 2;

test("a build's memory: the app's largest limit, else the host default, else 2g (at most 3/4 of the host's)", () => {
  assert.deepEqual(buildMemory({ web: { memoryBytes: 256 * MiB }, worker: { memoryBytes: 512 * MiB, nanoCpus: 1e9 } }, 1024 * MiB), {
    bytes: 512 * MiB,
    source: 'resource:limit',
  });
  assert.deepEqual(buildMemory({ web: { nanoCpus: 1e9 } }, 1024 * MiB), { bytes: 1024 * MiB, source: 'resource:set-global memory' });
  assert.deepEqual(buildMemory({}, null, 64 * 1024 ** 3), { bytes: DEFAULT_BUILD_MEMORY, source: 'the build default' });
  assert.deepEqual(buildMemory({}, null, 1024 * MiB), { bytes: 768 * MiB, source: 'the build default' });
  assert.deepEqual([1_800_000, 90_000, 7_200_000, 1500].map(formatDuration), ['30m', '90s', '2h', '1500ms']);
});
