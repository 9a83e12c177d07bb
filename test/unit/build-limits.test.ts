// The limits of a build (issue 21 hole 5) below the engine: what POST /build is given, how a build
// is stopped by its cgroup or deadline, the cgroup file and command plans of each layout (v2 ones
// are only run here against a temp dir), and where the memory limit comes from.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PassThrough, type Readable } from 'node:stream';
import { test } from 'node:test';
import type Dockerode from 'dockerode';
import { BuildCgroups, type CgroupHits, type CgroupLayout, layoutFromInfo } from '../../src/builders/build-cgroup.js';
import type { BuildStepLimits } from '../../src/builders/build-limits.js';
import { buildDockerImage } from '../../src/builders/docker-image-build.js';
import { buildMemory, DEFAULT_BUILD_MEMORY, formatDuration } from '../../src/deploy/build-limiter.js';
import { DiskFloor } from '../../src/deploy/disk-floor.js';
import { silentLogger } from '../../src/log/logger.js';

const context = fs.mkdtempSync(path.join(os.tmpdir(), 'paas-build-limits-'));
fs.writeFileSync(path.join(context, 'Dockerfile'), 'FROM base\nRUN bomb\n');
const MiB = 1024 ** 2;

/** An engine whose build runs a step that never ends by itself; it records the build options and the containers removed. */
function endlessEngine() {
  const seen: { options: Record<string, unknown> | null; removed: string[] } = { options: null, removed: [] };
  const docker = {
    async buildImage(ctx: NodeJS.ReadableStream, options: Record<string, unknown>) {
      for await (const _ of ctx as Readable);
      seen.options = options;
      const out = new PassThrough();
      out.write(`${JSON.stringify({ stream: 'Step 2/2 : RUN bomb\n' })}\r\n`);
      out.write(`${JSON.stringify({ stream: ' ---> Running in 0123456789ab\n' })}\r\n`);
      return out;
    },
    getContainer: (id: string) => ({
      remove: async () => void seen.removed.push(id),
      inspect: async () => Promise.reject(Object.assign(new Error('no such container'), { statusCode: 404 })),
    }),
  } as unknown as Dockerode;
  return { docker, seen };
}

function limits(over: Partial<BuildStepLimits> = {}): BuildStepLimits {
  return {
    memoryBytes: 512 * MiB,
    memoryText: '512m, from resource:limit',
    pids: 1024,
    deadline: Date.now() + 60_000,
    timeoutText: '1m',
    summary: '',
    cgroup: null,
    ...over,
  };
}

const fakeCgroup = (hits: () => CgroupHits) => ({ parent: '/paas-build-test', hits: async () => hits(), remove: async () => {} });

function run(docker: Dockerode, l: BuildStepLimits, signal = new AbortController().signal) {
  return buildDockerImage(docker, silentLogger(), {
    contextDir: context,
    dockerfile: 'Dockerfile',
    imageTag: 'paas/app:v2',
    buildArgs: {},
    labels: {},
    output: new PassThrough().resume(),
    signal,
    limits: l,
    // the image-ownership check (a sibling concern) is not what is tested here
    imagePolicy: { app: 'app', role: 'admin' },
  });
}

test('a step that forks up to the pids limit stops the build at once with the limit line; its step container is removed', async () => {
  const engine = endlessEngine();
  let polls = 0;
  const cgroup = fakeCgroup(() => ({ pids: ++polls >= 2, oomKills: 0, memoryAtLimit: false }));
  const t0 = Date.now();
  await assert.rejects(run(engine.docker, limits({ cgroup })), {
    code: 'PAAS_ERR_BUILD_LIMIT',
    message: 'the build hit its process limit (1024)',
  });
  assert.ok(Date.now() - t0 < 5000);
  assert.equal(engine.seen.options?.cgroupparent, '/paas-build-test');
  assert.equal(engine.seen.options?.memory, undefined, 'the cgroup holds the memory limit for all steps');
  assert.deepEqual(engine.seen.removed, ['0123456789ab']);
});

test('a build past its deadline is stopped with the time line; without a cgroup the engine gets a per-step memory limit', async () => {
  const engine = endlessEngine();
  await assert.rejects(run(engine.docker, limits({ deadline: Date.now() + 300, timeoutText: '300ms' })), {
    code: 'PAAS_ERR_BUILD_LIMIT',
    message: 'the build ran past its time limit (300ms; builder:set --global build-timeout)',
  });
  assert.equal(engine.seen.options?.memory, 512 * MiB);
  assert.equal(engine.seen.options?.memswap, 512 * MiB);
  assert.equal(engine.seen.options?.cgroupparent, undefined);
  assert.deepEqual(engine.seen.removed, ['0123456789ab']);
  // a build that starts past its deadline (a retry, pack's second step) is refused before the engine is asked
  await assert.rejects(run(engine.docker, limits({ deadline: Date.now() - 1 })), { code: 'PAAS_ERR_BUILD_LIMIT' });
});

test('a cancelled build is still a cancellation, not a limit', async () => {
  const engine = endlessEngine();
  const ac = new AbortController();
  setTimeout(() => ac.abort(), 100);
  await assert.rejects(
    run(engine.docker, limits({ cgroup: fakeCgroup(() => ({ pids: false, oomKills: 0, memoryAtLimit: false })) }), ac.signal),
    {
      code: 'PAAS_ERR_BUILD_CANCELLED',
    },
  );
});

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

test('the free-disk floor names the place that is low; none set, or a place it cannot read, passes', async () => {
  const free: Record<string, number> = { '/data': 50 * 1024 ** 3, '/docker': 200 * MiB };
  let floor: number | null = 1024 ** 3;
  const disk = new DiskFloor({
    floor: () => floor,
    places: async () => [
      { what: 'the data dir', path: '/data' },
      { what: "Docker's data root", path: '/docker' },
      { what: 'a remote root', path: '/gone' },
    ],
    freeBytes: async (p) => (p in free ? free[p]! : Promise.reject(new Error('ENOENT'))),
  });
  await assert.rejects(disk.check('the push was refused'), {
    code: 'PAAS_ERR_DISK_LOW',
    message:
      "the push was refused: free disk on Docker's data root (/docker) is 200m, below the floor of 1g (builder:set --global min-free-disk); nothing was written",
  });
  free['/docker'] = 2 * 1024 ** 3;
  await disk.check('x');
  floor = null;
  free['/data'] = 0;
  await disk.check('x');
});
