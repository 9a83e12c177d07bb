#!/usr/bin/env node
// Runs every *.test.ts under test/ on node's built-in runner (through tsx), unit tests first.
// `npm test -- test/unit` narrows to a folder or file. Exits with the runner's code.
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import path from 'node:path';

function collect(p) {
  if (statSync(p).isFile()) return p.endsWith('.test.ts') ? [p] : [];
  return readdirSync(p)
    .sort()
    .flatMap((f) => collect(path.join(p, f)));
}
const roots = process.argv.slice(2).length ? process.argv.slice(2) : ['test'];
const files = roots.flatMap(collect);
const isE2e = (f) => f.includes(`${path.sep}e2e${path.sep}`);
const ordered = [...files.filter((f) => !isE2e(f)), ...files.filter(isE2e)];
if (ordered.length === 0) {
  console.error('no test files found under', roots.join(' '));
  process.exit(1);
}
const setup = spawnSync('bash', [path.join(import.meta.dirname, 'ensure-test-packages.sh')], { stdio: 'inherit' });
if (setup.status !== 0) process.exit(setup.status ?? 1);
const concurrency = process.env.PAAS_TEST_CONCURRENCY ?? '1';
const r = spawnSync(process.execPath, ['--import', 'tsx', '--test', `--test-concurrency=${concurrency}`, ...ordered], { stdio: 'inherit' });
process.exit(r.status ?? 1);
