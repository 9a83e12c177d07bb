// The template builder: stack detection, rendered Dockerfiles per stack, and real builds of the
// Node, Python and static fixtures on the local test images (same code path, images from env).
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { BuildRequest } from '../../src/builders/builder.js';
import { renderStackDockerfile, renderTemplate } from '../../src/builders/dockerfile-template.js';
import { detectStack } from '../../src/builders/stack-detection.js';
import { GENERATED_DOCKERFILE, TemplateBuilder } from '../../src/builders/template-builder.js';
import { DEFAULT_IMAGES, type ImageConfig, loadImageConfig } from '../../src/config/image-config.js';
import { isAppError } from '../../src/errors/app-error.js';
import { silentLogger } from '../../src/log/logger.js';
import { ContainerRuntime } from '../../src/runtime/container-runtime.js';
import { BUSYBOX_IMAGE, ensureBusyboxImage, ensureNodeImage, NODE_IMAGE } from '../helpers/base-images.js';
import { Collector, cleanupByLabel, httpGet, requireDocker, runFilter, testLabels } from '../helpers/docker.js';

const FIXTURES = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'fixtures');
const labels = testLabels('template-builder');
let tmp: string;

async function copyFixture(name: string): Promise<string> {
  const dir = await fs.mkdtemp(path.join(tmp, `${name}-`));
  await fs.cp(path.join(FIXTURES, name), dir, { recursive: true });
  return dir;
}

async function dirWith(files: Record<string, string>): Promise<string> {
  const dir = await fs.mkdtemp(path.join(tmp, 'app-'));
  for (const [name, content] of Object.entries(files)) await fs.writeFile(path.join(dir, name), content);
  return dir;
}

describe('image config', () => {
  test('official defaults, overridden per stack from env', () => {
    assert.deepEqual(loadImageConfig({}), DEFAULT_IMAGES);
    const c = loadImageConfig({ PAAS_IMAGE_NODE: 'my/node:1', PAAS_IMAGE_STATIC: '  ', PAAS_PACK_BUILDER: 'my/builder' });
    assert.equal(c.node, 'my/node:1');
    assert.equal(c.static, DEFAULT_IMAGES.static, 'blank falls back to the default');
    assert.equal(c.packBuilder, 'my/builder');
    assert.equal(c.python, 'python:3.12-slim');
  });
});

describe('stack detection and rendering', () => {
  before(async () => {
    tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'paas-tpl-'));
  });

  test('detects node, python (requirements.txt or pyproject.toml), go, static; node wins over index.html', async () => {
    assert.equal((await detectStack(path.join(FIXTURES, 'node-app'))).stack, 'node');
    assert.equal((await detectStack(path.join(FIXTURES, 'python-app'))).stack, 'python');
    assert.equal((await detectStack(path.join(FIXTURES, 'go-app'))).stack, 'go');
    assert.equal((await detectStack(path.join(FIXTURES, 'static-site'))).stack, 'static');
    assert.deepEqual(await detectStack(await dirWith({ 'pyproject.toml': '[project]\nname="x"\n' })), {
      stack: 'python',
      detectedBy: ['pyproject.toml'],
    });
    assert.equal((await detectStack(await dirWith({ 'package.json': '{}', 'index.html': '' }))).stack, 'node');
  });

  test('nothing recognisable → PAAS_ERR_BUILD_UNDETECTED naming what was looked for', async () => {
    const dir = await dirWith({ 'README.md': 'hi' });
    await assert.rejects(detectStack(dir), (e: unknown) => {
      assert.ok(isAppError(e));
      assert.equal(e.code, 'PAAS_ERR_BUILD_UNDETECTED');
      for (const f of ['package.json', 'requirements.txt', 'pyproject.toml', 'go.mod', 'index.html'])
        assert.ok(e.message.includes(f), e.message);
      return true;
    });
  });

  test('node: no dependencies → install skipped, CMD node <main>', async () => {
    const dir = path.join(FIXTURES, 'node-app');
    const df = await renderStackDockerfile(dir, await detectStack(dir), { ...DEFAULT_IMAGES, node: 'base/node:x' });
    assert.match(df, /^FROM base\/node:x$/m);
    assert.match(df, /install skipped/);
    assert.doesNotMatch(df, /npm (ci|install)/);
    assert.match(df, /^CMD \["node","server.js"\]$/m);
    assert.doesNotMatch(df, /\{\{/);
  });

  test('node: lockfile → npm ci (cached layer before COPY . .), start script → npm start, build script runs', async () => {
    const dir = await dirWith({
      'package.json': JSON.stringify({ scripts: { start: 'node app.js', build: 'tsc' }, dependencies: { a: '1' } }),
      'package-lock.json': '{}',
    });
    const df = await renderStackDockerfile(dir, await detectStack(dir), DEFAULT_IMAGES);
    assert.match(df, /^FROM node:20-bookworm-slim$/m);
    assert.match(df, /^COPY package.json package-lock.json \.\/$/m);
    const ci = df.indexOf('RUN npm ci --include=dev');
    assert.ok(ci > 0 && ci < df.indexOf('COPY . .'), df);
    assert.match(df, /^RUN npm run build$/m);
    assert.match(df, /^RUN npm prune --omit=dev$/m);
    assert.match(df, /^CMD \["npm","start"\]$/m);
    const noLock = await dirWith({ 'package.json': JSON.stringify({ dependencies: { a: '1' } }) });
    assert.match(await renderStackDockerfile(noLock, await detectStack(noLock), DEFAULT_IMAGES), /^RUN npm install --omit=dev$/m);
  });

  test('python, go and static render with their base images', async () => {
    const py = await dirWith({ 'requirements.txt': 'flask==3.0\n', 'app.py': '' });
    const pdf = await renderStackDockerfile(py, await detectStack(py), DEFAULT_IMAGES);
    assert.match(pdf, /^FROM python:3.12-slim$/m);
    assert.match(pdf, /^RUN pip install --no-cache-dir -r requirements.txt$/m);
    assert.match(pdf, /^CMD \["python3","app.py"\]$/m);
    const go = path.join(FIXTURES, 'go-app');
    const gdf = await renderStackDockerfile(go, await detectStack(go), DEFAULT_IMAGES);
    assert.match(gdf, /^FROM golang:1.22-bookworm$/m);
    assert.match(gdf, /^COPY go.mod \.\/$/m);
    assert.match(gdf, /^RUN go build/m);
    const st = path.join(FIXTURES, 'static-site');
    const sdf = await renderStackDockerfile(st, await detectStack(st), DEFAULT_IMAGES);
    assert.match(sdf, /^FROM busybox:1.36$/m);
    assert.match(sdf, /httpd -f -p/);
  });

  test('renderTemplate rejects a placeholder with no value', () => {
    assert.throws(() => renderTemplate('FROM {{BASE_IMAGE}}\n{{NOPE}}\n', { BASE_IMAGE: 'x' }), /NOPE/);
  });
});

describe('TemplateBuilder (real builds)', () => {
  let docker: Awaited<ReturnType<typeof requireDocker>>;
  let images: ImageConfig;
  let rt: ContainerRuntime;
  const tagBase = `paas-test/tpl-${labels['paas.test.run']}`;

  before(async () => {
    docker = await requireDocker();
    await ensureBusyboxImage();
    const t0 = Date.now();
    await ensureNodeImage();
    const ms = Date.now() - t0;
    if (ms > 5000) process.stderr.write(`# built ${NODE_IMAGE} in ${Math.round(ms / 1000)} s\n`);
    tmp ??= await fs.mkdtemp(path.join(os.tmpdir(), 'paas-tpl-'));
    // Tests point the stacks at local images through the same env the server reads.
    images = loadImageConfig({ PAAS_IMAGE_NODE: NODE_IMAGE, PAAS_IMAGE_PYTHON: NODE_IMAGE, PAAS_IMAGE_STATIC: BUSYBOX_IMAGE });
    rt = new ContainerRuntime(docker, silentLogger(), { network: `paas-test-${labels['paas.test.run']}`, labels });
  });

  after(async () => {
    await cleanupByLabel(runFilter(labels));
    if (tmp) await fs.rm(tmp, { recursive: true, force: true });
  });

  function req(sourceDir: string, tag: string): BuildRequest & { out: Collector } {
    const out = new Collector();
    return {
      app: 'tpl',
      release: 1,
      sourceDir,
      imageTag: tag,
      buildArgs: {},
      labels,
      output: out.stream,
      signal: new AbortController().signal,
      out,
    };
  }

  async function serve(image: string, env: Record<string, string> = {}): Promise<string> {
    const c = await rt.start({
      app: 'tpl',
      process: 'web',
      release: 1,
      replica: Math.floor(Math.random() * 1e6),
      image,
      env,
      port: 5000,
      labels,
    });
    assert.ok(c.ip);
    return (await httpGet(`http://${c.ip}:5000/`, 15_000)).body;
  }

  test('node app builds on the Debian node image and serves HTTP on PORT', async () => {
    const src = await copyFixture('node-app');
    const r = req(src, `${tagBase}-node:v1`);
    const result = await new TemplateBuilder(docker, silentLogger(), { images }).build(r);
    assert.equal(result.builder, 'template');
    assert.match(r.out.text, /Detected node app \(package.json\)/);
    assert.match(r.out.text, /Step 1\/\d+ : FROM paas-test\/debian-node:1/);
    assert.ok((await fs.readFile(path.join(src, GENERATED_DOCKERFILE), 'utf8')).startsWith('# Rendered by the paas template builder'));
    const inspect = await docker.getImage(result.image).inspect();
    assert.equal(inspect.Config.Labels?.['paas.stack'], 'node');
    const body = await serve(result.image, { GREETING: 'hi' });
    assert.equal(body, 'node-app on 5000 greeting=hi\n');
  });

  test('python app (empty requirements) builds and serves; static site builds on busybox and serves; Dockerfile.paas is not shipped', async () => {
    const py = await copyFixture('python-app');
    const pr = await new TemplateBuilder(docker, silentLogger(), { images }).build(req(py, `${tagBase}-py:v1`));
    assert.equal(await serve(pr.image), 'python-app on 5000\n');

    const st = await copyFixture('static-site');
    const sr = await new TemplateBuilder(docker, silentLogger(), { images }).build(req(st, `${tagBase}-static:v1`));
    assert.match(await serve(sr.image), /static-site fixture/);
    const c = (await rt.list({ app: 'tpl' })).find((i) => i.image === sr.image)!;
    const missing = await httpGet(`http://${c.ip}:5000/${GENERATED_DOCKERFILE}`);
    assert.equal(missing.status, 404, 'the generated Dockerfile is kept out of the image');
  });

  test('an undetectable app fails before touching Docker', async () => {
    const dir = await dirWith({ 'notes.txt': 'x' });
    await assert.rejects(new TemplateBuilder(docker, silentLogger(), { images }).build(req(dir, `${tagBase}-none:v1`)), {
      code: 'PAAS_ERR_BUILD_UNDETECTED',
    });
  });
});
