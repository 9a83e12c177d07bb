import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { applyLimits, formatCpus, formatMemory, parseCpus, parseLimitArgs, parseMemory } from '../../../src/deploy/resource-limits.js';
import { parseMount } from '../../../src/deploy/storage-mounts.js';

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

const codeOf = (fn: () => unknown): string => {
  try {
    fn();
  } catch (e) {
    return (e as { code?: string }).code ?? 'no-code';
  }
  return 'no-error';
};

test('storage mounts: relative dirs live in the app storage; elsewhere only under an allowed root, for admins; never /etc, the socket, /proc, the data dir or ..', () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'paas-mount-'));
  const dataDir = path.join(root, 'data');
  fs.mkdirSync(path.join(dataDir, 'keys'), { recursive: true });
  const sock = path.join(root, 'run', 'docker.sock');
  fs.mkdirSync(path.dirname(sock));
  fs.writeFileSync(sock, '');
  fs.symlinkSync(sock, path.join(root, 'sneaky'));
  const outside = path.join(root, 'shared');
  const allowed = path.join(root, 'srv');
  fs.mkdirSync(path.join(allowed, 'x'), { recursive: true });
  const admin = { app: 'web1', dataDir, role: 'admin' as const, dockerSockets: [sock], allowedRoots: [allowed] };
  const collab = { ...admin, role: 'developer' as const };
  try {
    const own = path.join(dataDir, 'storage', 'web1');
    for (const ctx of [admin, collab]) {
      const m = parseMount('uploads:/app/uploads', ctx);
      assert.equal(m.bind, `${path.join(own, 'uploads')}:/app/uploads`);
      assert.equal(m.inAppStorage, true);
      assert.equal(parseMount('a/./b:/c:ro', ctx).bind, `${path.join(own, 'a', 'b')}:/c:ro`);
      assert.equal(parseMount(`${own}/x:/x/`, ctx).bind, `${path.join(own, 'x')}:/x`);
    }
    // under an allowed root: admins only
    assert.equal(parseMount(`${allowed}/x:/shared`, admin).bind, `${allowed}/x:/shared`);
    assert.equal(parseMount(`${allowed}/x:/shared`, admin).inAppStorage, false);
    assert.equal(
      codeOf(() => parseMount(`${allowed}/x:/shared`, collab)),
      'PAAS_ERR_STORAGE_FORBIDDEN',
    );
    assert.throws(() => parseMount(`${allowed}/x:/shared`, collab), /only admin keys may mount/);
    // outside the app storage and every root: refused even for admins
    for (const ctx of [admin, { ...admin, allowedRoots: [] }]) {
      assert.throws(
        () => parseMount(`${outside}:/shared`, ctx),
        (e: Error & { code?: string; exitCode?: number }) =>
          e.code === 'PAAS_ERR_STORAGE_FORBIDDEN' && e.exitCode === 1 && /storage:allow-root DIR; nothing was changed$/.test(e.message),
      );
    }
    // `..` anywhere: refused, for everyone
    for (const host of ['../other-app', '../../../shared', 'a/b/../c', `${own}/../web2`, `${allowed}/../shared`]) {
      for (const ctx of [admin, collab])
        assert.equal(
          codeOf(() => parseMount(`${host}:/o`, ctx)),
          'PAAS_ERR_STORAGE_FORBIDDEN',
          host,
        );
    }
    // never, not even for admins, and not even under an allowed root
    for (const host of [
      sock,
      path.join(root, 'sneaky'),
      '/var/run/docker.sock',
      '/etc',
      '/etc/passwd',
      '/root/.ssh',
      '/var/lib/docker',
      '/var/lib/docker/volumes',
      '/var',
      '/proc',
      '/proc/1',
      '/sys/fs',
      '/dev',
      '/',
      dataDir,
      path.join(dataDir, 'keys'),
      root,
    ]) {
      for (const ctx of [admin, collab]) {
        const everywhere = { ...ctx, dockerSockets: [sock, '/var/run/docker.sock'], allowedRoots: ['/', root, '/var', '/etc'] };
        const c = code(() => parseMount(`${host}:/x`, everywhere));
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
