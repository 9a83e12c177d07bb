// Build args may hold secrets: they reach the build (pack's `--env`, Docker's build args) but no
// pino log line (captured here at level trace) and no output the user sees echoes their values.
// pack is a fake on PATH (the real CLI cannot be installed here); the Dockerfile build is real.
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import pino from 'pino';
import type { BuildRequest } from '../../src/builders/builder.js';
import { DockerfileBuilder } from '../../src/builders/dockerfile-builder.js';
import { PackBuilder } from '../../src/builders/pack-builder.js';
import { BUSYBOX_IMAGE, ensureBusyboxImage } from '../helpers/base-images.js';
import { Collector, cleanupByLabel, requireDocker, runFilter, testLabels } from '../helpers/docker.js';

const labels = testLabels('build-secrets');
const MARKER = `s3cret-${crypto.randomBytes(6).toString('hex')}`;
let tmp: string;

/** A trace-level pino logger whose lines are kept in `lines`. */
function capturingLogger() {
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk, _enc, cb) {
      lines.push(...String(chunk).split('\n').filter(Boolean));
      cb();
    },
  });
  return { log: pino({ level: 'trace' }, sink), lines };
}

function request(sourceDir: string, tag: string): BuildRequest & { out: Collector } {
  const out = new Collector();
  return {
    app: 'secrets',
    release: 1,
    sourceDir,
    imageTag: tag,
    buildArgs: { API_TOKEN: MARKER, NODE_ENV: 'production' },
    labels,
    output: out.stream,
    signal: new AbortController().signal,
    out,
  };
}

describe('build args never reach the logs', () => {
  let docker: Awaited<ReturnType<typeof requireDocker>>;
  const tag = `paas-test/secrets-${labels['paas.test.run']}`;

  before(async () => {
    docker = await requireDocker();
    await ensureBusyboxImage();
    tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'paas-secrets-'));
  });
  after(async () => {
    await cleanupByLabel(runFilter(labels));
    for (const t of [`${tag}:pack`, `${tag}:docker`]) {
      await docker
        ?.getImage(t)
        .remove()
        .catch(() => {});
    }
    if (tmp) await fs.rm(tmp, { recursive: true, force: true });
  });

  test('pack: the value reaches pack as --env API_TOKEN=<value>; the log line shows --env API_TOKEN=***, on success and on failure', async () => {
    const binDir = path.join(tmp, 'bin');
    await fs.mkdir(binDir);
    const argvFile = path.join(tmp, 'argv.txt');
    const fakePack = (code: number) =>
      fs.writeFile(
        path.join(binDir, 'pack'),
        `#!/bin/sh\nfor a in "$@"; do printf '%s\\n' "$a"; done > "${argvFile}"\necho "===> BUILDING"\n` +
          (code ? `echo "ERROR: failed to build" >&2\nexit ${code}\n` : `docker tag ${BUSYBOX_IMAGE} "$2"\n`),
        { mode: 0o755 },
      );
    const env = { ...process.env, PATH: `${binDir}:${process.env.PATH}` };

    await fakePack(0);
    const ok = capturingLogger();
    const req = request(tmp, `${tag}:pack`);
    await new PackBuilder(docker, ok.log, { builderImage: 'b', env }).build(req);
    const argv = (await fs.readFile(argvFile, 'utf8')).trimEnd().split('\n');
    assert.deepEqual(argv.slice(-4), ['--env', `API_TOKEN=${MARKER}`, '--env', 'NODE_ENV=production'], 'pack got the value');
    const packLine = ok.lines.map((l) => JSON.parse(l)).find((l) => l.msg === 'pack build');
    assert.deepEqual(packLine.args.slice(-4), ['--env', 'API_TOKEN=***', '--env', 'NODE_ENV=***']);
    assert.equal(ok.lines.filter((l) => l.includes(MARKER)).length, 0, ok.lines.join('\n'));
    assert.equal(req.out.text.includes(MARKER), false, 'the user-visible output does not echo it');

    await fakePack(7);
    const failed = capturingLogger();
    const bad = request(tmp, `${tag}:pack-fail`);
    await assert.rejects(new PackBuilder(docker, failed.log, { builderImage: 'b', env }).build(bad), (e: Error & { code?: string }) => {
      assert.equal(e.code, 'PAAS_ERR_BUILD_FAILED');
      assert.equal(e.message.includes(MARKER), false);
      return true;
    });
    assert.equal(failed.lines.length > 0, true);
    assert.equal(failed.lines.filter((l) => l.includes(MARKER)).length, 0, failed.lines.join('\n'));
    assert.equal(bad.out.text.includes(MARKER), false);
  });

  test('Dockerfile: the build arg reaches the build (a RUN prints its first 7 characters) but no log line and no output line holds it', async () => {
    const src = path.join(tmp, 'df');
    await fs.mkdir(src);
    await fs.writeFile(
      path.join(src, 'Dockerfile'),
      `FROM ${BUSYBOX_IMAGE}\nARG API_TOKEN\nRUN echo "token-prefix-$(echo "$API_TOKEN" | cut -c1-7)"\nCMD ["true"]\n`,
    );
    const cap = capturingLogger();
    const req = request(src, `${tag}:docker`);
    await new DockerfileBuilder(docker, cap.log).build(req);
    assert.match(req.out.text, /^token-prefix-s3cret-$/m, 'the value reached the RUN step');
    assert.equal(cap.lines.length > 0, true, 'the build logged something at trace level');
    assert.equal(cap.lines.filter((l) => l.includes(MARKER)).length, 0, cap.lines.join('\n'));
    assert.equal(req.out.text.includes(MARKER), false, req.out.text);
  });
});
