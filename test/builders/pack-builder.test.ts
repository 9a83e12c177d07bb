// pack cannot be installed here: the PackBuilder is tested at its boundary with a fake `pack`
// on PATH that records its argv and exits with a chosen code (and, on success, tags an image
// with the real engine so the builder can inspect and label it).
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { BuildRequest } from '../../src/builders/builder.js';
import { PackBuilder } from '../../src/builders/pack-builder.js';
import { selectBuilder } from '../../src/builders/select-builder.js';
import { DEFAULT_IMAGES } from '../../src/config/image-config.js';
import { isAppError } from '../../src/errors/app-error.js';
import { silentLogger } from '../../src/log/logger.js';
import { BUSYBOX_IMAGE, ensureBusyboxImage } from '../helpers/base-images.js';
import { Collector, cleanupByLabel, requireDocker, runFilter, testLabels } from '../helpers/docker.js';
import { waitFor } from '../helpers/wait.js';

const labels = testLabels('pack-builder');
let tmp: string;
let binDir: string;
let argvFile: string;

/** A fake pack: records argv (one per line), prints some output, tags BUSYBOX_IMAGE as the target on success. */
async function writeFakePack(exitCode: number): Promise<void> {
  const script = `#!/bin/sh
for a in "$@"; do printf '%s\\n' "$a"; done > "${argvFile}"
echo "===> DETECTING"
echo "[detector] fake pack $PAAS_FAKE_PACK_ENV" >&2
if [ ${exitCode} -ne 0 ]; then
  echo "===> BUILDING"
  echo "ERROR: failed to build: exit status 51" >&2
  exit ${exitCode}
fi
docker tag ${BUSYBOX_IMAGE} "$2"
echo "Successfully built image $2"
`;
  await fs.writeFile(path.join(binDir, 'pack'), script, { mode: 0o755 });
}

function request(tag: string): BuildRequest & { out: Collector } {
  const out = new Collector();
  return {
    app: 'packed',
    release: 4,
    sourceDir: tmp,
    imageTag: tag,
    buildArgs: { NODE_ENV: 'production', B: 'x=y' },
    labels,
    output: out.stream,
    signal: new AbortController().signal,
    out,
  };
}

describe('PackBuilder (fake pack on PATH)', () => {
  let docker: Awaited<ReturnType<typeof requireDocker>>;
  const env = () => ({ ...process.env, PATH: `${binDir}:${process.env.PATH}`, PAAS_FAKE_PACK_ENV: 'env-passed' });
  const tag = `paas-test/pack-${labels['paas.test.run']}:v4`;

  before(async () => {
    docker = await requireDocker();
    await ensureBusyboxImage();
    tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'paas-pack-'));
    binDir = path.join(tmp, 'bin');
    await fs.mkdir(binDir);
    argvFile = path.join(tmp, 'argv.txt');
  });

  after(async () => {
    await cleanupByLabel(runFilter(labels));
    await docker
      ?.getImage(tag)
      .remove()
      .catch(() => {});
    if (tmp) await fs.rm(tmp, { recursive: true, force: true });
  });

  test('runs pack with an argument array: build <tag> --path --builder --trust-builder --pull-policy --env; streams output; labels the image', async () => {
    await writeFakePack(0);
    const b = new PackBuilder(docker, silentLogger(), { builderImage: 'my/builder:jammy', env: env() });
    const req = request(tag);
    const r = await b.build(req);
    assert.equal(r.builder, 'pack');
    assert.equal(r.image, tag);
    const argv = (await fs.readFile(argvFile, 'utf8')).trimEnd().split('\n');
    assert.deepEqual(argv, [
      'build',
      tag,
      '--path',
      tmp,
      '--builder',
      'my/builder:jammy',
      '--trust-builder',
      '--pull-policy',
      'if-not-present',
      '--no-color',
      '--env',
      'B=x=y',
      '--env',
      'NODE_ENV=production',
    ]);
    assert.match(req.out.text, /===> DETECTING/);
    assert.match(req.out.text, /\[detector\] fake pack env-passed/, 'stderr streamed, env passed through');
    const info = await docker.getImage(tag).inspect();
    assert.equal(info.Config.Labels?.['paas.test.run'], labels['paas.test.run'], 'labels applied after pack');
  });

  test('non-zero exit → PAAS_ERR_BUILD_FAILED with the last line', async () => {
    await writeFakePack(7);
    const b = new PackBuilder(docker, silentLogger(), { builderImage: 'b', env: env() });
    await assert.rejects(b.build(request(`${tag}-fail`)), (e: unknown) => {
      assert.ok(isAppError(e));
      assert.equal(e.code, 'PAAS_ERR_BUILD_FAILED');
      assert.equal(e.message, 'pack build failed (exit 7): ERROR: failed to build: exit status 51');
      return true;
    });
  });

  test('no pack on PATH → PAAS_ERR_BUILD_PACK_MISSING', async () => {
    const b = new PackBuilder(docker, silentLogger(), { builderImage: 'b', env: { PATH: path.join(tmp, 'nowhere') } });
    await assert.rejects(b.build(request(`${tag}-missing`)), (e: unknown) => {
      assert.ok(isAppError(e));
      assert.equal(e.code, 'PAAS_ERR_BUILD_PACK_MISSING');
      assert.match(e.message, /'pack' CLI is not installed/);
      return true;
    });
  });

  // the fake pack sleeps 10 minutes and the test times out after 2: only the abort can end it in time
  test('aborting kills pack → PAAS_ERR_BUILD_CANCELLED', { timeout: 120_000 }, async () => {
    await fs.writeFile(path.join(binDir, 'pack'), '#!/bin/sh\necho started\nexec sleep 600\n', { mode: 0o755 });
    const ac = new AbortController();
    const b = new PackBuilder(docker, silentLogger(), { builderImage: 'b', env: env() });
    const req = { ...request(`${tag}-abort`), signal: ac.signal };
    const p = b.build(req);
    await waitFor('pack to start', async () => req.out.text.includes('started'));
    ac.abort();
    await assert.rejects(p, { code: 'PAAS_ERR_BUILD_CANCELLED' });
  });
});

describe('selectBuilder', () => {
  let docker: Awaited<ReturnType<typeof requireDocker>>;
  let dir: string;
  before(async () => {
    docker = await requireDocker();
    tmp ??= await fs.mkdtemp(path.join(os.tmpdir(), 'paas-pack-'));
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'paas-select-'));
  });
  after(async () => {
    await fs.rm(dir, { recursive: true, force: true });
  });
  const deps = (PATH: string) => ({ docker, log: silentLogger(), images: DEFAULT_IMAGES, env: { PATH } });

  test('forced → Dockerfile → project.toml / pack on PATH → template; unknown forced name rejected', async () => {
    const noPack = path.join(dir, 'empty-bin');
    await fs.mkdir(noPack, { recursive: true });
    const withPack = path.join(dir, 'bin');
    await fs.mkdir(withPack, { recursive: true });
    await fs.writeFile(path.join(withPack, 'pack'), '#!/bin/sh\n', { mode: 0o755 });

    assert.equal((await selectBuilder(dir, null, deps(noPack))).name, 'template');
    assert.equal((await selectBuilder(dir, null, deps(withPack))).name, 'pack');
    await fs.writeFile(path.join(dir, 'project.toml'), '[_]\n');
    assert.equal((await selectBuilder(dir, null, deps(noPack))).name, 'pack');
    await fs.writeFile(path.join(dir, 'Dockerfile'), 'FROM x\n');
    assert.equal((await selectBuilder(dir, null, deps(withPack))).name, 'dockerfile');
    assert.equal((await selectBuilder(dir, 'template', deps(withPack))).name, 'template');
    assert.equal((await selectBuilder(dir, 'pack', deps(noPack))).name, 'pack');
    assert.equal((await selectBuilder(dir, '', deps(noPack))).name, 'dockerfile', 'empty forced = not forced');
    await assert.rejects(selectBuilder(dir, 'heroku', deps(noPack)), (e: unknown) => {
      assert.ok(isAppError(e));
      assert.equal(e.code, 'PAAS_ERR_BUILD_UNKNOWN_BUILDER');
      assert.match(e.message, /unknown builder 'heroku': choose one of dockerfile, pack, template/);
      return true;
    });
  });
});
