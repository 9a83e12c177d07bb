// The Dockerfile builder against the real engine: output streamed, failures as one line,
// .dockerignore honoured, the layer cache reused, cancellation, EXPOSEd ports reported.
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { DockerfileBuilder } from '../../src/builders/dockerfile-builder.js';
import type { BuildRequest } from '../../src/builders/builder.js';
import { isAppError } from '../../src/errors/app-error.js';
import { silentLogger } from '../../src/log/logger.js';
import { ContainerRuntime } from '../../src/runtime/container-runtime.js';
import { ensureBusyboxImage } from '../helpers/base-images.js';
import { Collector, cleanupByLabel, httpGet, requireDocker, runFilter, testLabels } from '../helpers/docker.js';
import { waitFor } from '../helpers/wait.js';

const FIXTURES = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'fixtures');
const labels = testLabels('dockerfile-builder');
let tmp: string;

async function copyFixture(name: string): Promise<string> {
  const dir = await fs.mkdtemp(path.join(tmp, `${name}-`));
  await fs.cp(path.join(FIXTURES, name), dir, { recursive: true });
  return dir;
}

function request(sourceDir: string, tag: string, extra: Partial<BuildRequest> = {}): BuildRequest & { out: Collector } {
  const out = new Collector();
  return {
    app: 'fixture',
    release: 1,
    sourceDir,
    imageTag: tag,
    buildArgs: {},
    labels,
    output: out.stream,
    signal: new AbortController().signal,
    out,
    ...extra,
  };
}

describe('DockerfileBuilder', () => {
  let builder: DockerfileBuilder;
  const tagBase = `paas-test/dfb-${labels['paas.test.run']}`;

  before(async () => {
    const docker = await requireDocker();
    await ensureBusyboxImage();
    tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'paas-dfb-'));
    builder = new DockerfileBuilder(docker, silentLogger());
  });

  after(async () => {
    await cleanupByLabel(runFilter(labels));
    if (tmp) await fs.rm(tmp, { recursive: true, force: true });
  });

  test('builds the busybox app, streams step output, reports EXPOSE, and the image serves HTTP with PORT and config', async () => {
    const src = await copyFixture('busybox-web');
    const req = request(src, `${tagBase}:v1`, { buildArgs: { GREETING: 'bonjour' } });
    const r = await builder.build(req);
    assert.equal(r.builder, 'dockerfile');
    assert.equal(r.image, `${tagBase}:v1`);
    assert.match(r.imageId, /^sha256:/);
    assert.deepEqual(r.exposedPorts, [5000]);
    assert.match(req.out.text, /Step 1\/\d+ : FROM paas-test\/busybox:1/);
    assert.match(req.out.text, /Successfully tagged/);

    const docker = await requireDocker();
    const img = await docker.getImage(r.image).inspect();
    assert.equal(img.Config.Labels?.['paas.test.run'], labels['paas.test.run'], 'labels applied to the image');

    const rt = new ContainerRuntime(docker, silentLogger(), { network: `paas-test-${labels['paas.test.run']}`, labels });
    const c = await rt.start({
      app: 'fixture',
      process: 'web',
      release: 1,
      replica: 1,
      image: r.image,
      env: { COLOR: 'blue' },
      port: 5000,
      labels,
    });
    assert.ok(c.ip);
    const res = await httpGet(`http://${c.ip}:5000/greeting.txt`);
    assert.equal(res.body.trim(), 'bonjour', 'build arg reached the RUN step');
    const env = await httpGet(`http://${c.ip}:5000/cgi-bin/env`);
    assert.match(env.body, /^PORT=5000$/m);
    assert.match(env.body, /^COLOR=blue$/m);
  });

  test('.dockerignore is honoured (files and globs), the Dockerfile and .dockerignore still reach the daemon', async () => {
    const src = await copyFixture('busybox-web');
    await fs.writeFile(path.join(src, 'secret.txt'), 'do-not-ship\n');
    await fs.writeFile(path.join(src, 'debug.log'), 'noise\n');
    await fs.writeFile(path.join(src, 'kept.txt'), 'ship me\n');
    const r = await builder.build(request(src, `${tagBase}:ignore`));
    const ls = await execa('docker', ['run', '--rm', '--label', 'paas.test=1', r.image, 'ls', '-a', '/src']);
    const files = ls.stdout.split('\n');
    assert.ok(files.includes('kept.txt'), ls.stdout);
    assert.ok(files.includes('www'), ls.stdout);
    assert.ok(!files.includes('secret.txt'), `secret.txt leaked: ${ls.stdout}`);
    assert.ok(!files.includes('debug.log'), `debug.log leaked: ${ls.stdout}`);
  });

  // how fast a cached rebuild is belongs in `npm run bench`, not in a pass/fail test
  test('an unchanged rebuild uses the layer cache: same image id, "Using cache"', async () => {
    const src = await copyFixture('busybox-web');
    const first = await builder.build(request(src, `${tagBase}:c1`));
    // a fresh export of the same commit: same content, new mtimes
    const src2 = await copyFixture('busybox-web');
    const req = request(src2, `${tagBase}:c2`);
    const second = await builder.build(req);
    assert.equal(second.imageId, first.imageId);
    assert.match(req.out.text, /Using cache/);
    assert.doesNotMatch(req.out.text, /Running in/, 'no step ran again');
  });

  test('a failing step → PAAS_ERR_BUILD_FAILED with the step and its error on one line', async () => {
    const src = await fs.mkdtemp(path.join(tmp, 'broken-'));
    await fs.writeFile(path.join(src, 'Dockerfile'), 'FROM paas-test/busybox:1\nRUN echo about to fail && exit 3\nCMD ["true"]\n');
    const req = request(src, `${tagBase}:broken`);
    await assert.rejects(builder.build(req), (e: unknown) => {
      assert.ok(isAppError(e));
      assert.equal(e.code, 'PAAS_ERR_BUILD_FAILED');
      assert.ok(!e.message.includes('\n'), 'one line');
      assert.match(e.message, /Step 2\/\d+: RUN echo about to fail && exit 3/);
      assert.match(e.message, /returned a non-zero code: 3/);
      return true;
    });
    assert.match(req.out.text, /about to fail/, 'the step output was streamed before the failure');
  });

  test('a Dockerfile syntax error and a missing base image fail as PAAS_ERR_BUILD_FAILED', async () => {
    const src = await fs.mkdtemp(path.join(tmp, 'syntax-'));
    await fs.writeFile(path.join(src, 'Dockerfile'), 'FROM paas-test/busybox:1\nNOTAVERB foo\n');
    await assert.rejects(builder.build(request(src, `${tagBase}:syntax`)), { code: 'PAAS_ERR_BUILD_FAILED' });
    await fs.writeFile(path.join(src, 'Dockerfile'), 'FROM paas-test/does-not-exist:1\n');
    await assert.rejects(builder.build(request(src, `${tagBase}:nobase`)), (e: unknown) => {
      assert.ok(isAppError(e) && e.code === 'PAAS_ERR_BUILD_FAILED', String(e));
      assert.match(e.message, /does-not-exist/);
      return true;
    });
  });

  test('no Dockerfile → PAAS_ERR_BUILD_NO_DOCKERFILE', async () => {
    const src = await fs.mkdtemp(path.join(tmp, 'empty-'));
    await assert.rejects(builder.build(request(src, `${tagBase}:none`)), { code: 'PAAS_ERR_BUILD_NO_DOCKERFILE' });
  });

  // the step sleeps 10 minutes and the test times out after 2: only the abort can end it in time
  test('aborting the signal cancels a running build and leaves no tag', { timeout: 120_000 }, async () => {
    const src = await fs.mkdtemp(path.join(tmp, 'slow-'));
    await fs.writeFile(path.join(src, 'Dockerfile'), `FROM paas-test/busybox:1\nRUN echo $((6*7))-marker-${Date.now()} && sleep 600\n`);
    const ac = new AbortController();
    const req = request(src, `${tagBase}:slow`, { signal: ac.signal });
    const p = builder.build(req);
    // abort once the slow step is running
    await waitFor('the slow step to run', async () => req.out.text.includes('42-marker'));
    ac.abort();
    await assert.rejects(p, { code: 'PAAS_ERR_BUILD_CANCELLED' });
    const docker = await requireDocker();
    await assert.rejects(docker.getImage(`${tagBase}:slow`).inspect(), /no such image|404/i);
  });
});
