// The link resolution behind the export check (issue 21, hole 1): every symlink's whole chain is
// followed as the kernel would, and one that leaves the tree, by any spelling, is caught.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { findBadLink, MAX_LINK_HOPS, resolveInTree } from '../../../src/git/tree-links.js';

let top: string;
let root: string;

/** A fresh tree under `top/a/b/c/` (so a climb out of it lands on real directories) holding `links` and `files`. */
function tree(links: Record<string, string>, files: string[] = [], dirs: string[] = []): string {
  root = fs.mkdtempSync(path.join(top, 'a', 'b', 'c', 'tree-'));
  for (const d of dirs) fs.mkdirSync(path.join(root, d), { recursive: true });
  for (const f of files) {
    fs.mkdirSync(path.dirname(path.join(root, f)), { recursive: true });
    fs.writeFileSync(path.join(root, f), f);
  }
  for (const [name, target] of Object.entries(links)) {
    fs.mkdirSync(path.dirname(path.join(root, name)), { recursive: true });
    fs.symlinkSync(target, path.join(root, name));
  }
  return root;
}

/** What the kernel says (realpath(3); fs.realpathSync without .native resolves a target's `..` by its spelling): the real path relative to the tree, or `outside`. */
function kernel(rel: string): string {
  const real = fs.realpathSync.native(path.join(root, rel));
  const realRoot = fs.realpathSync.native(root);
  return real === realRoot ? '' : real.startsWith(`${realRoot}/`) ? real.slice(realRoot.length + 1) : 'outside';
}

before(() => {
  top = fs.mkdtempSync(path.join(os.tmpdir(), 'paas-tree-links-'));
  fs.mkdirSync(path.join(top, 'a', 'b', 'c'), { recursive: true });
  fs.writeFileSync(path.join(top, 'a', 'secret'), 'secret');
});
after(() => fs.rmSync(top, { recursive: true, force: true }));

test('a chain of links that each look inside but climb out is caught, as the kernel resolves it', async () => {
  const links: Record<string, string> = { 'd/l0': '..', e1: 'd/l0/..', e2: 'e1/..', e3: 'e2/..', leak: 'e3/secret' };
  tree(links, ['d/keep']);
  assert.equal(kernel('e3/secret'), 'outside', 'the kernel really leaves the tree');
  assert.deepEqual(await resolveInTree(root, 'd/l0'), { kind: 'inside', path: '', exists: true });
  for (const l of ['e1', 'e2', 'e3', 'leak']) assert.deepEqual(await resolveInTree(root, l), { kind: 'outside' }, l);
  assert.deepEqual(await findBadLink(root), { link: 'e1', why: 'outside' });
});

test('absolute links are outside, whatever they name', async () => {
  tree({ abs: '/etc/passwd', 'sub/deep': '/' }, ['x']);
  // even one naming a file of the tree: the tree is moved into build contexts and images
  fs.symlinkSync(path.join(root, 'x'), path.join(root, 'abs-inside'));
  assert.deepEqual(await resolveInTree(root, 'abs'), { kind: 'outside' });
  assert.deepEqual(await resolveInTree(root, 'abs-inside'), { kind: 'outside' });
  assert.deepEqual(await resolveInTree(root, 'sub/deep'), { kind: 'outside' });
  assert.deepEqual(await findBadLink(root), { link: 'abs', why: 'outside' });
});

test('a plain `..` above the root, also from a subdirectory or through a link to a subdirectory', async () => {
  tree({ up: '..', 'sub/up2': '../..', via: 'sub', far: 'via/../../a' }, [], ['sub']);
  for (const l of ['up', 'sub/up2', 'far']) assert.deepEqual(await resolveInTree(root, l), { kind: 'outside' }, l);
  // `via/..` is the root for the kernel (via is sub), so `far` climbs one above it
  assert.equal(kernel('via/..'), '');
});

test('loops and chains deeper than the kernel follows are refused as loops', async () => {
  tree({ a: 'b', b: 'a', self: 'self/x' });
  assert.deepEqual(await resolveInTree(root, 'a'), { kind: 'loop' });
  assert.deepEqual(await resolveInTree(root, 'self'), { kind: 'loop' });
  assert.deepEqual(await findBadLink(root), { link: 'a', why: 'loop' });

  const chain: Record<string, string> = { n0: 'target' };
  for (let i = 1; i <= MAX_LINK_HOPS; i++) chain[`n${i}`] = `n${i - 1}`;
  tree(chain, ['target']);
  assert.deepEqual(await resolveInTree(root, `n${MAX_LINK_HOPS - 1}`), { kind: 'inside', path: 'target', exists: true });
  assert.deepEqual(await resolveInTree(root, `n${MAX_LINK_HOPS}`), { kind: 'loop' });
});

test('links that stay inside are fine: to a dir, through other links, back to the root, dangling', async () => {
  tree(
    {
      static: 'public',
      current: 'releases/v2',
      assets: 'current/public/../assets',
      'd/l0': '..',
      'd/root': 'l0/d/l0',
      dangling: 'not/here',
      'deep/up': '../public/index.html',
    },
    ['public/index.html', 'releases/v2/public/x', 'releases/v2/assets/y'],
    ['deep'],
  );
  assert.deepEqual(await resolveInTree(root, 'static'), { kind: 'inside', path: 'public', exists: true });
  assert.deepEqual(await resolveInTree(root, 'assets/y'), { kind: 'inside', path: 'releases/v2/assets/y', exists: true });
  assert.equal(kernel('assets/y'), 'releases/v2/assets/y');
  assert.deepEqual(await resolveInTree(root, 'd/root'), { kind: 'inside', path: '', exists: true });
  assert.deepEqual(await resolveInTree(root, 'dangling'), { kind: 'inside', path: 'not/here', exists: false });
  assert.deepEqual(await resolveInTree(root, 'deep/up'), { kind: 'inside', path: 'public/index.html', exists: true });
  assert.equal(await findBadLink(root), null);
});

test('a dangling link that would lead out once its missing part appears is caught', async () => {
  tree({ 'd/l0': '..', later: 'missing/../../x', through: 'file/../..' }, ['file'], ['d']);
  assert.deepEqual(await resolveInTree(root, 'later'), { kind: 'outside' });
  assert.deepEqual(await resolveInTree(root, 'through'), { kind: 'outside' });
  // below a missing part the rest is only spelled, and resolving resumes once `..` climbs back
  tree({ 'd/l0': '..', e1: 'd/l0/..', back: 'missing/../e1/x' }, [], ['d']);
  assert.deepEqual(await resolveInTree(root, 'back'), { kind: 'outside' });
});

test('the walk reports the first bad link in byte order, deep inside too, and never follows a link while walking', async () => {
  tree({ 'z/inner/bad': '../../../x', 'B/ok': '../z', 'b/ok': 'inner' }, [], ['z/inner']);
  assert.deepEqual(await findBadLink(root), { link: 'z/inner/bad', why: 'outside' });
  // a link to a dir holding a bad link is not walked into: the bad link is found where it is
  tree({ 'a/link-to-z': '../z', 'z/bad': '/' }, [], ['a', 'z']);
  assert.deepEqual(await findBadLink(root), { link: 'z/bad', why: 'outside' });
});
