// The build context sent to the engine: .dockerignore as the docker CLI applies it.
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import tarStream from 'tar-stream';
import { createBuildContext } from '../../src/builders/build-context.js';

let dir: string;

async function entries(opts: Parameters<typeof createBuildContext>[1]): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  const ex = tarStream.extract();
  ex.on('entry', (h, stream, next) => {
    const chunks: Buffer[] = [];
    stream.on('data', (c: unknown) => {
      chunks.push(c as Buffer);
    });
    stream.on('end', () => {
      if (h.type === 'file') out.set(h.name, Buffer.concat(chunks).toString());
      next();
    });
  });
  const done = new Promise<void>((r) => ex.on('finish', () => r()));
  (await createBuildContext(dir, opts)).pipe(ex);
  await done;
  return out;
}

before(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'paas-ctx-'));
  const files: Record<string, string> = {
    Dockerfile: 'FROM x\n',
    '.dockerignore': 'Dockerfile\n*.log\nnode_modules\ndocs/**\n!docs/keep.md\n',
    'app.js': '1',
    'debug.log': 'x',
    'node_modules/a/index.js': 'x',
    'docs/drop.md': 'x',
    'docs/keep.md': 'x',
    'src/deep/file.txt': 'x',
  };
  for (const [f, c] of Object.entries(files)) {
    await fs.mkdir(path.dirname(path.join(dir, f)), { recursive: true });
    await fs.writeFile(path.join(dir, f), c);
  }
});

after(async () => {
  await fs.rm(dir, { recursive: true, force: true });
});

test('ignored files and directories are left out, exceptions kept, the Dockerfile and .dockerignore always sent', async () => {
  const e = await entries({ dockerfile: 'Dockerfile' });
  assert.deepEqual([...e.keys()].sort(), ['.dockerignore', 'Dockerfile', 'app.js', 'docs/keep.md', 'src/deep/file.txt']);
});

test('extra ignore patterns are appended to the .dockerignore that is sent', async () => {
  await fs.writeFile(path.join(dir, 'Dockerfile.paas'), 'FROM y\n');
  const e = await entries({ dockerfile: 'Dockerfile.paas', extraIgnore: ['Dockerfile.paas'] });
  assert.ok(e.has('Dockerfile.paas'), 'the generated Dockerfile reaches the daemon');
  assert.match(e.get('.dockerignore') ?? '', /\nDockerfile\.paas\n$/);
  assert.ok(e.get('.dockerignore')?.startsWith('Dockerfile\n*.log'), "the app's own patterns are kept");
});
