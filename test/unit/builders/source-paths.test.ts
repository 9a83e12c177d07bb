import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { parseRepoPath, resolveInside } from '../../../src/builders/source-paths.js';

const code = (fn: () => unknown) => {
  try {
    fn();
  } catch (e) {
    return (e as { code?: string }).code;
  }
  return 'no error';
};

test('build-dir and dockerfile-path are relative paths inside the repository, normalised', () => {
  assert.equal(parseRepoPath('services/api', 'build-dir'), 'services/api');
  assert.equal(parseRepoPath('./services//api/', 'build-dir'), 'services/api');
  assert.equal(parseRepoPath('.', 'build-dir'), null);
  assert.equal(parseRepoPath('', 'build-dir'), null);
  for (const bad of ['../x', 'a/../../x', 'a/..', '/etc', 'a\\b', 'a\nb', 'x\0'])
    assert.equal(
      code(() => parseRepoPath(bad, 'build-dir')),
      'PAAS_ERR_BUILD_PATH',
      JSON.stringify(bad),
    );
});

const asyncCode = (p: Promise<unknown>) =>
  p.then(
    () => 'no error',
    (e: unknown) => (e as { code?: string }).code,
  );

test('a path that a symlink leads out of the exported tree is refused; missing paths and wrong kinds too', async () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'paas-src-'));
  fs.mkdirSync(path.join(root, 'api'));
  fs.writeFileSync(path.join(root, 'api', 'Dockerfile'), 'FROM x\n');
  fs.symlinkSync('/etc', path.join(root, 'escape'));
  fs.symlinkSync('api', path.join(root, 'inside'));
  fs.symlinkSync('../../../../etc/passwd', path.join(root, 'api', 'Dockerfile.evil'));
  // each link looks inside by its spelling; together they climb out
  fs.mkdirSync(path.join(root, 'd'));
  fs.symlinkSync('..', path.join(root, 'd', 'l0'));
  fs.symlinkSync('d/l0/..', path.join(root, 'e1'));
  assert.equal(await resolveInside(root, 'api', 'build-dir', 'dir'), fs.realpathSync(path.join(root, 'api')));
  assert.equal(await resolveInside(root, 'inside', 'build-dir', 'dir'), fs.realpathSync(path.join(root, 'api')), 'a link inside is fine');
  assert.equal(await resolveInside(root, 'd/l0/inside/', 'build-dir', 'dir'), fs.realpathSync(path.join(root, 'api')), 'so is a chain');
  assert.equal(await asyncCode(resolveInside(root, 'escape', 'build-dir', 'dir')), 'PAAS_ERR_BUILD_PATH');
  assert.equal(await asyncCode(resolveInside(root, 'e1', 'build-dir', 'dir')), 'PAAS_ERR_BUILD_PATH');
  assert.equal(await asyncCode(resolveInside(path.join(root, 'api'), 'Dockerfile.evil', 'dockerfile-path', 'file')), 'PAAS_ERR_BUILD_PATH');
  assert.equal(await asyncCode(resolveInside(root, 'nope', 'build-dir', 'dir')), 'PAAS_ERR_BUILD_PATH');
  assert.equal(await asyncCode(resolveInside(root, 'api/Dockerfile', 'build-dir', 'dir')), 'PAAS_ERR_BUILD_PATH');
  fs.rmSync(root, { recursive: true, force: true });
});
