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
import type { CgroupHits } from '../../../src/builders/build-cgroup.js';
import type { BuildStepLimits } from '../../../src/builders/build-limits.js';
import { buildDockerImage } from '../../../src/builders/docker-image-build.js';
import { silentLogger } from '../../../src/log/logger.js';

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
