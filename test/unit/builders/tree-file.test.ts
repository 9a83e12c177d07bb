// paas reads and writes its own files in an exported tree only as regular files, never through a
// symlink (defence in depth behind the export's link check).
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { readTreeFile, treeEntry, treeFileExists, writeTreeFile } from '../../../src/builders/tree-file.js';

let top: string;
let root: string;
let outsideFile: string;

before(() => {
  top = fs.mkdtempSync(path.join(os.tmpdir(), 'paas-tree-file-'));
  outsideFile = path.join(top, 'outside.txt');
  fs.writeFileSync(outsideFile, 'outside\n');
  root = path.join(top, 'tree');
  fs.mkdirSync(path.join(root, 'sub'), { recursive: true });
  fs.writeFileSync(path.join(root, 'Procfile'), 'web: run\n');
  fs.writeFileSync(path.join(root, 'sub', 'file'), 'in sub\n');
  fs.symlinkSync('Procfile', path.join(root, 'inside-link'));
  fs.symlinkSync(outsideFile, path.join(root, 'outside-link'));
  fs.symlinkSync('sub', path.join(root, 'sublink'));
  fs.mkdirSync(path.join(root, 'adir'));
  execFileSync('mkfifo', [path.join(root, 'fifo')]);
});
after(() => fs.rmSync(top, { recursive: true, force: true }));

const codeOf = (p: Promise<unknown>) =>
  p.then(
    () => 'no error',
    (e: unknown) => `${(e as { code?: string }).code}: ${(e as Error).message}`,
  );

test('entries are seen without following links, on every part of the path', async () => {
  assert.deepEqual(await treeEntry(root, 'Procfile'), { kind: 'file' });
  assert.deepEqual(await treeEntry(root, 'sub'), { kind: 'dir' });
  assert.deepEqual(await treeEntry(root, 'inside-link'), { kind: 'link', at: 'inside-link' });
  assert.deepEqual(await treeEntry(root, 'sublink/file'), { kind: 'link', at: 'sublink' });
  assert.equal(await treeEntry(root, 'missing'), null);
  assert.equal(await treeEntry(root, 'Procfile/x'), null);
  assert.equal(await treeFileExists(root, 'Procfile'), true);
  assert.equal(await treeFileExists(root, 'outside-link'), true, 'present, to be refused when read');
  assert.equal(await treeFileExists(root, 'adir'), false);
  assert.equal(await treeFileExists(root, 'missing'), false);
});

test('a regular file is read; a missing one is null; links (inside or out), dirs and others are refused with one line', async () => {
  assert.equal(await readTreeFile(root, 'Procfile'), 'web: run\n');
  assert.equal(await readTreeFile(root, 'sub/file'), 'in sub\n');
  assert.equal(await readTreeFile(root, 'missing'), null);
  assert.equal(
    await codeOf(readTreeFile(root, 'outside-link')),
    'PAAS_ERR_BUILD_BAD_SOURCE: outside-link is a symlink in the repository; paas reads it only as a regular file: commit the file itself',
  );
  assert.match(await codeOf(readTreeFile(root, 'inside-link')), /^PAAS_ERR_BUILD_BAD_SOURCE: inside-link is a symlink/);
  assert.match(
    await codeOf(readTreeFile(root, 'sublink/file')),
    /^PAAS_ERR_BUILD_BAD_SOURCE: sublink\/file is behind the symlink 'sublink'/,
  );
  assert.match(await codeOf(readTreeFile(root, 'adir')), /^PAAS_ERR_BUILD_BAD_SOURCE: adir in the repository is not a regular file$/);
  assert.match(await codeOf(readTreeFile(root, 'fifo')), /^PAAS_ERR_BUILD_BAD_SOURCE: fifo in the repository is not a regular file$/);
});

test('a write replaces whatever entry has the name and never lands where a link points', async () => {
  fs.symlinkSync(outsideFile, path.join(root, 'Dockerfile.paas'));
  await writeTreeFile(root, 'Dockerfile.paas', 'FROM x\n');
  assert.equal(fs.readFileSync(outsideFile, 'utf8'), 'outside\n');
  assert.equal(fs.lstatSync(path.join(root, 'Dockerfile.paas')).isFile(), true);
  assert.equal(fs.readFileSync(path.join(root, 'Dockerfile.paas'), 'utf8'), 'FROM x\n');
  // a dangling link: the write does not create its target
  fs.rmSync(path.join(root, 'Dockerfile.paas'));
  fs.symlinkSync(path.join(top, 'created.txt'), path.join(root, 'Dockerfile.paas'));
  await writeTreeFile(root, 'Dockerfile.paas', 'FROM y\n');
  assert.equal(fs.existsSync(path.join(top, 'created.txt')), false);
  assert.equal(fs.readFileSync(path.join(root, 'Dockerfile.paas'), 'utf8'), 'FROM y\n');
  // a committed regular file of that name is replaced, as before
  await writeTreeFile(root, 'Dockerfile.paas', 'FROM z\n');
  assert.equal(fs.readFileSync(path.join(root, 'Dockerfile.paas'), 'utf8'), 'FROM z\n');
  assert.match(await codeOf(writeTreeFile(root, 'adir', 'x')), /^PAAS_ERR_BUILD_BAD_SOURCE: adir is a directory/);
});
