import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { applyLimits, formatCpus, formatMemory, parseCpus, parseLimitArgs, parseMemory } from '../../src/deploy/resource-limits.js';
import { parseMount } from '../../src/deploy/storage-mounts.js';

const code = (fn: () => unknown): string | number => {
  try {
    fn();
  } catch (e) {
    return (e as { exitCode?: number }).exitCode ?? 'no-exit-code';
  }
  return 'no-error';
};

test('memory and cpus parse with units and bounds; bad values are usage errors', () => {
  assert.equal(parseMemory('512m'), 512 * 1024 ** 2);
  assert.equal(parseMemory('1.5g'), 1.5 * 1024 ** 3);
  assert.equal(parseMemory('64M'), 64 * 1024 ** 2);
  assert.equal(parseMemory('100mb'), 100 * 1024 ** 2);
  assert.equal(parseMemory('8192k'), 8 * 1024 ** 2);
  for (const bad of ['512', 'm', '-1m', '1t', '5m', 'abc', '1.2.3g', '', '0g'])
    assert.equal(
      code(() => parseMemory(bad)),
      2,
      bad,
    );
  assert.equal(parseCpus('1', 4), 1e9);
  assert.equal(parseCpus('0.5', 4), 5e8);
  assert.equal(parseCpus('1.25', 4), 1.25e9);
  for (const bad of ['0', '0.0', '-1', 'x', '1e3', '.5', '5', '0.001'])
    assert.equal(
      code(() => parseCpus(bad, 4)),
      2,
      bad,
    );
  assert.deepEqual(parseLimitArgs(['memory=512m', 'cpus=1'], 4), { memoryBytes: 512 * 1024 ** 2, nanoCpus: 1e9 });
  assert.deepEqual(parseLimitArgs(['cpus=none'], 4), { nanoCpus: null });
  for (const bad of [[], ['memory'], ['disk=1g'], ['memory=1g', 'memory=2g'], ['memory=512']])
    assert.equal(
      code(() => parseLimitArgs(bad, 4)),
      2,
      bad.join(' '),
    );
});

test('limits merge per process and none clears', () => {
  let t = applyLimits({}, '*', { memoryBytes: 1024 ** 3 });
  t = applyLimits(t, 'worker', { nanoCpus: 5e8 });
  t = applyLimits(t, '*', { nanoCpus: 1e9 });
  assert.deepEqual(t, { '*': { memoryBytes: 1024 ** 3, nanoCpus: 1e9 }, worker: { nanoCpus: 5e8 } });
  t = applyLimits(t, 'worker', { nanoCpus: null });
  assert.deepEqual(t, { '*': { memoryBytes: 1024 ** 3, nanoCpus: 1e9 } });
  assert.equal(formatMemory(512 * 1024 ** 2), '512m');
  assert.equal(formatMemory(1.5 * 1024 ** 3), '1.5g');
  assert.equal(formatMemory(undefined), 'unlimited');
  assert.equal(formatCpus(5e8), '0.5');
});

test('storage mounts: relative dirs live in the app storage; other paths are admin-only; the socket, /proc, /sys and the data dir never', () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'paas-mount-'));
  const dataDir = path.join(root, 'data');
  fs.mkdirSync(path.join(dataDir, 'keys'), { recursive: true });
  const sock = path.join(root, 'run', 'docker.sock');
  fs.mkdirSync(path.dirname(sock));
  fs.writeFileSync(sock, '');
  fs.symlinkSync(sock, path.join(root, 'sneaky'));
  const outside = path.join(root, 'shared');
  const admin = { app: 'web1', dataDir, role: 'admin' as const, dockerSockets: [sock] };
  const collab = { ...admin, role: 'developer' as const };
  try {
    const own = path.join(dataDir, 'storage', 'web1');
    for (const ctx of [admin, collab]) {
      const m = parseMount('uploads:/app/uploads', ctx);
      assert.equal(m.bind, `${path.join(own, 'uploads')}:/app/uploads`);
      assert.equal(m.inAppStorage, true);
      assert.equal(parseMount('a/b/../c:/c:ro', ctx).bind, `${path.join(own, 'a', 'c')}:/c:ro`);
      assert.equal(parseMount(`${own}/x:/x/`, ctx).bind, `${path.join(own, 'x')}:/x`);
    }
    // outside the app's storage: admin only
    assert.equal(parseMount(`${outside}:/shared`, admin).bind, `${outside}:/shared`);
    assert.equal(
      code(() => parseMount(`${outside}:/shared`, collab)),
      1,
    );
    assert.match(
      String(
        (() => {
          try {
            parseMount(`${outside}:/shared`, collab);
          } catch (e) {
            return (e as Error).message;
          }
        })(),
      ),
      /only admin keys/,
    );
    // `..` escapes leave the app storage: admin only
    assert.equal(
      code(() => parseMount('../other-app:/o', collab)),
      1,
    );
    assert.equal(
      code(() => parseMount('../../../shared:/o', collab)),
      1,
    );
    assert.equal(parseMount('../other-app:/o', admin).inAppStorage, false);
    // never, not even for admins
    for (const host of [
      sock,
      path.dirname(sock),
      path.join(root, 'sneaky'),
      '/var/run/docker.sock',
      '/proc',
      '/proc/1',
      '/sys/fs',
      '/dev',
      '/',
      dataDir,
      path.join(dataDir, 'keys'),
      root,
      '../../keys',
    ]) {
      for (const ctx of [admin, collab]) {
        const c = code(() => parseMount(`${host}:/x`, { ...ctx, dockerSockets: [sock, '/var/run/docker.sock'] }));
        assert.equal(c, 1, `${host} as ${ctx.role}`);
      }
    }
    // malformed: usage errors
    for (const bad of ['nocolon', ':/x', 'a:', 'a:relative', 'a:/x:zz', 'a:/', 'a:/proc/x', 'a:/x/../y', 'a,b:/x', 'a:/b:c:d']) {
      assert.equal(
        code(() => parseMount(bad, admin)),
        2,
        bad,
      );
    }
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
});
