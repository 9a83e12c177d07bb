import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const child = path.join(path.dirname(fileURLToPath(import.meta.url)), 'fixtures', 'tick-shapes-child.ts');

/** The child's report: tick objects held, held on a second call, made after the idle GCs, and of those with a held map. */
function run(mode: 'hold' | 'none'): { held: number; again: number; fresh: number; matched: number } {
  const r = spawnSync(process.execPath, [...process.execArgv, '--expose-gc', '--allow-natives-syntax', child, mode], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout.trim().split('\n').pop()!);
}

test('held tick objects keep the maps nextTick builds across full GCs taken while no tick is pending', () => {
  const r = run('hold');
  // one without arguments, one with: both shapes nextTick makes
  assert.equal(r.held, 2);
  assert.equal(r.again, 2, 'a second call holds nothing more');
  assert.equal(r.fresh, 2);
  assert.equal(r.matched, 2, 'tick objects made after the GCs have the held maps');
});

test('without the hold nothing is kept (the check above compares against what the hold keeps)', () => {
  const r = run('none');
  assert.equal(r.held, 0);
  assert.equal(r.fresh, 2);
  assert.equal(r.matched, 0);
});
