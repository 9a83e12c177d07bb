// git:load-image's stream filter under hostile uploads (issue 21 hole 9): an upload over the size
// cap, or one that ends inside a layer, fails `checked` with one line and cuts the output tar,
// without an uncaught stream error (which would take the control plane down).
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { PassThrough, type Readable } from 'node:stream';
import { test } from 'node:test';
import { pack } from 'tar-stream';
import { filterDockerSave } from '../../../src/runtime/docker-save-filter.js';

const MiB = 1024 ** 2;

/** A `docker save`-shaped tar: one 3 MiB layer, then manifest.json naming `ref`. */
async function saveTar(ref: string): Promise<Buffer> {
  const p = pack();
  p.entry({ name: 'abc/layer.tar' }, randomBytes(3 * MiB));
  p.entry({ name: 'manifest.json' }, JSON.stringify([{ Config: 'cfg.json', RepoTags: [ref], Layers: ['abc/layer.tar'] }]));
  p.finalize();
  const chunks: Buffer[] = [];
  for await (const c of p as unknown as AsyncIterable<Buffer>) chunks.push(c);
  return Buffer.concat(chunks);
}

/** Feeds `bytes` in 64 KiB chunks, as an SSH channel does, while the engine's side reads the output. */
async function feed(bytes: Buffer, cap: { bytes: number; text: string } | null) {
  const uncaught: unknown[] = [];
  const onUncaught = (e: unknown) => uncaught.push(e);
  process.on('uncaughtException', onUncaught);
  try {
    const input = new PassThrough();
    const filtered = filterDockerSave(input as Readable, 'app:1', cap);
    let out = 0;
    filtered.tar.on('data', (c: Buffer) => (out += c.length));
    filtered.tar.on('error', () => {});
    for (let i = 0; i < bytes.length; i += 64 * 1024) {
      input.write(bytes.subarray(i, i + 64 * 1024));
      await new Promise((r) => setImmediate(r));
    }
    input.end();
    const result = await filtered.checked.then(
      () => null,
      (e: Error & { code?: string }) => e,
    );
    await new Promise((r) => setTimeout(r, 50));
    return { result, out, uncaught };
  } finally {
    process.off('uncaughtException', onUncaught);
  }
}

test('an upload over the cap is cut mid-layer with one line; nothing is thrown uncaught', async () => {
  const tar = await saveTar('app:1');
  const r = await feed(tar, { bytes: MiB, text: '1m' });
  assert.equal(r.result?.code, 'PAAS_ERR_RUNTIME_IMAGE_TOO_LARGE');
  assert.equal(r.result?.message, 'the upload is larger than the cap of 1m (builder:set --global max-image-size); nothing was loaded');
  assert.ok(r.out < 2 * MiB, `the engine got a cut tar (${r.out} bytes)`);
  assert.deepEqual(r.uncaught, []);
});

test('an upload that ends inside a layer fails as not a docker save; nothing is thrown uncaught', async () => {
  const tar = await saveTar('app:1');
  const r = await feed(tar.subarray(0, 2 * MiB), null);
  assert.equal(r.result?.code, 'PAAS_ERR_RUNTIME_NOT_DOCKER_SAVE');
  assert.deepEqual(r.uncaught, []);
});

test('under the cap the whole tar goes through and checks out', async () => {
  const tar = await saveTar('app:1');
  const r = await feed(tar, { bytes: 10 * MiB, text: '10m' });
  assert.equal(r.result, null);
  assert.deepEqual(r.uncaught, []);
});
