import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  joinRunCommand,
  normalizeDomain,
  parseChecksArgs,
  parseConfigPairs,
  parseLineCount,
  parseScaleArgs,
} from '../../../src/inputs/operation-inputs.js';

const code = (fn: () => unknown) => {
  try {
    fn();
  } catch (e) {
    return (e as { exitCode?: number }).exitCode;
  }
  return 0;
};

test('config pairs split at the first =; values keep =, newlines, unicode, empty', () => {
  assert.deepEqual(parseConfigPairs(['A=1', 'B=x=y', 'C=', 'D=line1\nline2', '_E=ü']), {
    A: '1',
    B: 'x=y',
    C: '',
    D: 'line1\nline2',
    _E: 'ü',
  });
  for (const bad of [['NOEQ'], ['1A=x'], ['A-B=x'], ['=x'], []])
    assert.equal(
      code(() => parseConfigPairs(bad)),
      2,
      JSON.stringify(bad),
    );
});

test('a malformed pair does not echo the secret after it', () => {
  assert.throws(
    () => parseConfigPairs(['bad key=supersecret']),
    (e: Error & { exitCode?: number }) => {
      assert.equal(e.exitCode, 2);
      assert.match(e.message, /bad key/, 'the message names the bad key');
      assert.ok(!e.message.includes('supersecret'), e.message);
      return true;
    },
  );
});

test('scale args: known types, whole numbers within the max', () => {
  assert.deepEqual(parseScaleArgs(['web=3', 'worker=0'], new Set(['web', 'worker']), 20), { web: 3, worker: 0 });
  for (const bad of ['web', 'web=', 'web=-1', 'web=1.5', 'web=21', 'clock=1', '=2']) {
    assert.equal(
      code(() => parseScaleArgs([bad], new Set(['web', 'worker']), 20)),
      2,
      bad,
    );
  }
  assert.deepEqual(parseScaleArgs(['clock=2'], null, 20), { clock: 2 });
});

test('checks, domains, run words, -n', () => {
  assert.deepEqual(parseChecksArgs(['path=/up', 'timeout=5', 'attempts=3', 'wait=2']), { path: '/up', timeout: 5, attempts: 3, wait: 2 });
  assert.deepEqual(parseChecksArgs(['path=none']), { path: null });
  for (const bad of [['path=up'], ['timeout=0'], ['x=1'], ['attempts'], []])
    assert.equal(
      code(() => parseChecksArgs(bad)),
      2,
    );
  assert.equal(normalizeDomain('WWW.Example.com.'), 'www.example.com');
  for (const bad of ['localhost', 'a..b', '-a.com', 'a_b.com', 'x.123', ''])
    assert.equal(
      code(() => normalizeDomain(bad)),
      2,
      bad,
    );
  assert.equal(joinRunCommand(['echo $X && exit 3']), 'echo $X && exit 3');
  assert.equal(joinRunCommand(['sh', '-c', 'exit 3']), "sh -c 'exit 3'");
  assert.equal(joinRunCommand(['echo', "it's"]), `echo 'it'\\''s'`);
  assert.equal(parseLineCount(undefined), 100);
  assert.equal(parseLineCount('5'), 5);
  assert.equal(
    code(() => parseLineCount('x')),
    2,
  );
});
