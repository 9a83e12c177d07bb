import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { test } from 'node:test';
import type Dockerode from 'dockerode';
import { buildDockerImage } from '../../../src/builders/docker-image-build.js';
import { silentLogger } from '../../../src/log/logger.js';

const context = fs.mkdtempSync(path.join(os.tmpdir(), 'paas-build-'));
fs.writeFileSync(path.join(context, 'Dockerfile'), 'FROM base\nCOPY . /app\n');
const VANISHED = `unable to find image "sha256:${'3'.repeat(64)}"`;

/** The engine's side of POST /build, one scripted answer (JSON lines) per call; it reads the whole context first. */
function fakeEngine(answers: object[][]): { docker: Dockerode; builds: () => number } {
  let calls = 0;
  const docker = {
    async buildImage(ctx: NodeJS.ReadableStream) {
      const lines = answers[calls++] ?? [];
      for await (const _ of ctx as Readable);
      return Readable.from(lines.map((l) => `${JSON.stringify(l)}\r\n`));
    },
    getImage: () => ({ inspect: async () => ({ Id: 'sha256:built', Config: { ExposedPorts: { '5000/tcp': {} } } }) }),
  } as unknown as Dockerode;
  return { docker, builds: () => calls };
}

async function build(docker: Dockerode) {
  const output = new PassThrough();
  let text = '';
  output.on('data', (d) => (text += d));
  const run = buildDockerImage(docker, silentLogger(), {
    contextDir: context,
    dockerfile: 'Dockerfile',
    imageTag: 'paas/app:v2',
    buildArgs: {},
    labels: {},
    output,
    signal: new AbortController().signal,
    // this fake engine answers builds only: the image rules (build-image-check.ts) do not apply to an admin
    imagePolicy: { app: 'app', role: 'admin' },
  });
  return { run, text: () => text };
}

const step2 = { stream: 'Step 2/2 : COPY . /app\n' };
const vanished = { errorDetail: { message: VANISHED }, error: VANISHED };
const built = { stream: 'Successfully built 1234\n' };

test('a build whose cached layer vanished under it (a concurrent prune) runs once more and succeeds', async () => {
  const engine = fakeEngine([
    [step2, vanished],
    [step2, built],
  ]);
  const { run, text } = await build(engine.docker);
  assert.deepEqual(await run, { imageId: 'sha256:built', exposedPorts: [5000] });
  assert.equal(engine.builds(), 2);
  assert.match(text(), /A cached layer was deleted during the build \(an image prune ran at the same time\); building again\n/);
});

test('a layer that vanishes twice fails the build with the engine line; other failures are not retried', async () => {
  const twice = fakeEngine([
    [step2, vanished],
    [step2, vanished],
  ]);
  await assert.rejects((await build(twice.docker)).run, { message: `build failed (Step 2/2: COPY . /app): ${VANISHED}` });
  assert.equal(twice.builds(), 2);
  const other = fakeEngine([[step2, { errorDetail: { message: 'COPY failed: no source files' }, error: 'x' }]]);
  await assert.rejects((await build(other.docker)).run, /build failed \(Step 2\/2: COPY \. \/app\): COPY failed: no source files/);
  assert.equal(other.builds(), 1);
});
