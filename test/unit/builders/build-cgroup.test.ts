// The per-build parent cgroup (issue 21 hole 5) in each layout: the files written under a cgroup
// root (v1 here for real, v2 only against a temp dir), the systemd commands, what the kernel's
// counters are read as, and the clean-up.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { BuildCgroups, type CgroupLayout, layoutFromInfo } from '../../../src/builders/build-cgroup.js';
import { silentLogger } from '../../../src/log/logger.js';

const MiB = 1024 ** 2;

test('v1 cgroupfs: pids.max and memory.limit_in_bytes under their controllers; a peak at the limit is a pids hit; all controllers cleaned', async () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'cg1-'));
  for (const c of ['pids', 'memory', 'cpu']) fs.mkdirSync(path.join(root, c));
  const cgs = new BuildCgroups({ layout: async () => ({ version: 1, driver: 'cgroupfs', root }), log: silentLogger(), removeWaitMs: 0 });
  const cg = (await cgs.create({ pids: 1024, memoryBytes: 64 * MiB }))!;
  const name = cg.parent.slice(1);
  assert.match(cg.parent, /^\/paas-build-[0-9a-f]{12}$/);
  assert.equal(fs.readFileSync(path.join(root, 'pids', name, 'pids.max'), 'utf8'), '1024');
  assert.equal(fs.readFileSync(path.join(root, 'memory', name, 'memory.limit_in_bytes'), 'utf8'), String(64 * MiB));
  assert.deepEqual(await cg.hits(), { pids: false, oomKills: 0, memoryAtLimit: false });
  // what the kernel shows after a bomb and an OOM kill in a step container (a child cgroup)
  fs.writeFileSync(path.join(root, 'pids', name, 'pids.peak'), '1024');
  fs.mkdirSync(path.join(root, 'memory', name, 'step1'));
  fs.writeFileSync(path.join(root, 'memory', name, 'step1', 'memory.oom_control'), 'oom_kill_disable 0\nunder_oom 0\noom_kill 1\n');
  fs.writeFileSync(path.join(root, 'memory', name, 'memory.max_usage_in_bytes'), String(64 * MiB));
  assert.deepEqual(await cg.hits(), { pids: true, oomKills: 1, memoryAtLimit: true });
  // the engine made the cpu dir too; the kernel's interface files vanish with rmdir, a temp dir's must be removed first
  fs.mkdirSync(path.join(root, 'cpu', name));
  for (const dir of [path.join(root, 'pids', name), path.join(root, 'memory', name)]) {
    fs.rmSync(path.join(dir, 'step1'), { recursive: true, force: true });
    for (const f of fs.readdirSync(dir)) fs.rmSync(path.join(dir, f));
  }
  await cg.remove();
  for (const c of ['pids', 'memory', 'cpu']) assert.equal(fs.existsSync(path.join(root, c, name)), false, c);
});

test('v2 cgroupfs: the controllers turned on at the root, pids.max, memory.max and no swap; hierarchical events read', async () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'cg2-'));
  fs.writeFileSync(path.join(root, 'cgroup.subtree_control'), 'cpu io');
  const cgs = new BuildCgroups({ layout: async () => ({ version: 2, driver: 'cgroupfs', root }), log: silentLogger(), removeWaitMs: 0 });
  const cg = (await cgs.create({ pids: 1024, memoryBytes: 96 * MiB }))!;
  const dir = path.join(root, cg.parent.slice(1));
  assert.equal(fs.readFileSync(path.join(root, 'cgroup.subtree_control'), 'utf8'), '+pids +memory');
  assert.equal(fs.readFileSync(path.join(dir, 'pids.max'), 'utf8'), '1024');
  assert.equal(fs.readFileSync(path.join(dir, 'memory.max'), 'utf8'), String(96 * MiB));
  assert.equal(fs.readFileSync(path.join(dir, 'memory.swap.max'), 'utf8'), '0');
  fs.writeFileSync(path.join(dir, 'pids.events'), 'max 3\n');
  fs.writeFileSync(path.join(dir, 'memory.events'), 'low 0\nhigh 0\nmax 12\noom 1\noom_kill 1\n');
  assert.deepEqual(await cg.hits(), { pids: true, oomKills: 1, memoryAtLimit: true });
  for (const f of fs.readdirSync(dir)) fs.rmSync(path.join(dir, f));
  await cg.remove();
  assert.equal(fs.existsSync(dir), false);
});

test('v2 systemd: a slice at the root with TasksMax, MemoryMax and no swap as runtime properties; stopped and reverted after', async () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'cg2s-'));
  const calls: string[][] = [];
  const cgs = new BuildCgroups({
    layout: async () => ({ version: 2, driver: 'systemd', root }),
    log: silentLogger(),
    systemctl: async (args) => void calls.push(args),
  });
  const cg = (await cgs.create({ pids: 1024, memoryBytes: 128 * MiB }))!;
  assert.match(cg.parent, /^paasbuild_[0-9a-f]{12}\.slice$/, 'no dash: a dash would nest the slice');
  assert.deepEqual(calls, [['set-property', '--runtime', cg.parent, 'TasksMax=1024', `MemoryMax=${128 * MiB}`, 'MemorySwapMax=0']]);
  fs.mkdirSync(path.join(root, cg.parent));
  fs.writeFileSync(path.join(root, cg.parent, 'pids.events'), 'max 1\n');
  assert.equal((await cg.hits()).pids, true);
  await cg.remove();
  assert.deepEqual(calls.slice(1), [
    ['stop', cg.parent],
    ['revert', cg.parent],
  ]);
});

test('layouts from docker info; v1 with systemd and unknown engines get no cgroup', async () => {
  assert.deepEqual(layoutFromInfo({ CgroupVersion: '1', CgroupDriver: 'cgroupfs' }), {
    version: 1,
    driver: 'cgroupfs',
    root: '/sys/fs/cgroup',
  });
  assert.deepEqual(layoutFromInfo({ CgroupVersion: '2', CgroupDriver: 'systemd' }), {
    version: 2,
    driver: 'systemd',
    root: '/sys/fs/cgroup',
  });
  assert.equal(layoutFromInfo({ CgroupVersion: '2', CgroupDriver: 'none' }), null);
  assert.equal(layoutFromInfo(null), null);
  const v1systemd: CgroupLayout = { version: 1, driver: 'systemd', root: '/nonexistent' };
  const cgs = new BuildCgroups({ layout: async () => v1systemd, log: silentLogger() });
  assert.equal(await cgs.create({ pids: 1024, memoryBytes: 64 * MiB }), null);
  const unwritable = new BuildCgroups({
    layout: async () => ({ version: 1, driver: 'cgroupfs', root: '/nonexistent' }),
    log: silentLogger(),
  });
  assert.equal(await unwritable.create({ pids: 1024, memoryBytes: 64 * MiB }), null);
});

test('a cgroup the engine makes again after the build (a late step of a cancelled build) is removed again later', async () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'cg1r-'));
  for (const c of ['pids', 'memory']) fs.mkdirSync(path.join(root, c));
  const cgs = new BuildCgroups({
    layout: async () => ({ version: 1, driver: 'cgroupfs', root }),
    log: silentLogger(),
    removeWaitMs: 0,
    resweepMs: [100],
  });
  const cg = (await cgs.create({ pids: 1024, memoryBytes: 64 * MiB }))!;
  const name = cg.parent.slice(1);
  for (const c of ['pids', 'memory']) for (const f of fs.readdirSync(path.join(root, c, name))) fs.rmSync(path.join(root, c, name, f));
  await cg.remove();
  assert.equal(fs.existsSync(path.join(root, 'pids', name)), false);
  fs.mkdirSync(path.join(root, 'pids', name));
  await new Promise((r) => setTimeout(r, 300));
  assert.equal(fs.existsSync(path.join(root, 'pids', name)), false);
});
