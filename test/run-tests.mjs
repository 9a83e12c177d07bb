#!/usr/bin/env node
// Runs every *.test.ts under test/ on node's built-in runner (through tsx): unit tests first,
// then end-to-end tests, then, in a separate `node --test` run after everything else has
// finished, test/e2e-last (the dockerd-restart drill, which stops the machine's only Docker
// engine; PAAS_DOCKERD_DRILL=0 skips it). `npm test -- test/unit` narrows to a folder or file.
// Exits non-zero when either run fails.
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, readdirSync, rmSync, statSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import path from 'node:path';

// The servers the tests start run paas's proxy as an unprivileged user, which must read the code
// it runs. A checkout behind a folder that user cannot pass (under /root, a 0700 `mktemp -d`) is
// tested from a mirror of hard links in /var/tmp: the same files, on a path the proxy user reaches.
const ROOT = path.resolve(import.meta.dirname, '..');
const blocked = (dir) => {
  for (let p = path.dirname(dir); ; p = path.dirname(p)) {
    if ((statSync(p).mode & 0o001) === 0) return p;
    if (p === path.dirname(p)) return null;
  }
};
const closedBy = process.getuid?.() === 0 && !process.env.PAAS_TEST_MIRROR_OF ? blocked(ROOT) : null;
if (closedBy) {
  const mirror = path.join('/var/tmp', `paas-test-tree-${createHash('sha256').update(ROOT).digest('hex').slice(0, 12)}`);
  rmSync(mirror, { recursive: true, force: true });
  try {
    execFileSync('cp', ['-al', ROOT, mirror], { stdio: 'ignore' });
  } catch {
    rmSync(mirror, { recursive: true, force: true });
    execFileSync('cp', ['-a', ROOT, mirror]);
  }
  chmodSync(mirror, 0o755);
  console.log(`# ${closedBy} does not let the proxy user through: running the tests from ${mirror} (hard links to ${ROOT})`);
  const args = process.argv
    .slice(2)
    .map((a) => (path.isAbsolute(a) && a.startsWith(`${ROOT}/`) ? path.join(mirror, a.slice(ROOT.length)) : a));
  const r = spawnSync(process.execPath, [path.join(mirror, 'test', 'run-tests.mjs'), ...args], {
    cwd: mirror,
    stdio: 'inherit',
    env: { ...process.env, PAAS_TEST_MIRROR_OF: ROOT },
  });
  process.exit(r.status ?? 1);
}

function collect(p) {
  if (statSync(p).isFile()) return p.endsWith('.test.ts') ? [p] : [];
  return readdirSync(p)
    .sort()
    .flatMap((f) => collect(path.join(p, f)));
}
const roots = process.argv.slice(2).length ? process.argv.slice(2) : ['test'];
const files = roots.flatMap(collect);
const isE2e = (f) => f.includes(`${path.sep}e2e${path.sep}`);
const isLast = (f) => f.includes(`${path.sep}e2e-last${path.sep}`);
const main = files.filter((f) => !isLast(f));
const ordered = [...main.filter((f) => !isE2e(f)), ...main.filter(isE2e)];
const last = files.filter(isLast);
if (ordered.length + last.length === 0) {
  console.error('no test files found under', roots.join(' '));
  process.exit(1);
}
const setup = spawnSync('bash', [path.join(import.meta.dirname, 'ensure-test-packages.sh')], { stdio: 'inherit' });
if (setup.status !== 0) process.exit(setup.status ?? 1);
const concurrency = process.env.PAAS_TEST_CONCURRENCY ?? '1';
const runFiles = (list, n = concurrency) =>
  list.length === 0
    ? 0
    : (spawnSync(process.execPath, ['--import', 'tsx', '--test', `--test-concurrency=${n}`, ...list], { stdio: 'inherit' }).status ?? 1);
// Docker-free unit tests (test/unit) share nothing but temp dirs: one per core
const isUnit = (f) => f.includes(`${path.sep}unit${path.sep}`);
const unitStatus = runFiles(ordered.filter(isUnit), String(availableParallelism()));
const status = runFiles(ordered.filter((f) => !isUnit(f))) || unitStatus;
// run even when the main run failed: its result is reported on its own
if (last.length) console.log(`# last step, on its own: ${last.join(' ')}`);
const lastStatus = runFiles(last);
process.exit(status || lastStatus);
