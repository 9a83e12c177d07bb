import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { type ImageListEntry, ImageOwners, imageRefusal } from '../../../src/runtime/image-ownership.js';
import { isFullImageId, mayBeShortImageId, paasRepoApp, parseReference } from '../../../src/runtime/image-reference.js';

// The ownership walk over a fake `GET /images/json?all=1`: ids are short names here.

const image = (Id: string, ParentId = '', RepoTags: string[] | null = null): ImageListEntry => ({ Id, ParentId, RepoTags });

/**
 * base (busybox:1) <- shared (untagged, RUN shared by both apps' builds)
 *   <- v-secret (untagged, COPY secret) <- victim-1 (paas/victim:v1)
 *   <- m-step (untagged) <- mine-1 (paas/mine:v1)
 * victim-1 <- on-victim (untagged) <- mine-2 (paas/mine:v2, an admin built mine FROM paas/victim:v1)
 * leftover (untagged, from a failed build of some app), deployed (paas/web:v1 and nginx:1: both tags)
 */
const LIST: ImageListEntry[] = [
  image('base', '', ['busybox:1']),
  image('shared', 'base', ['<none>:<none>']),
  image('v-secret', 'shared'),
  image('victim-1', 'v-secret', ['paas/victim:v1']),
  image('m-step', 'shared', []),
  image('mine-1', 'm-step', ['paas/mine:v1', 'docker.io/paas/mine:v1-copy']),
  image('on-victim', 'victim-1'),
  image('mine-2', 'on-victim', ['paas/mine:v2']),
  image('leftover', 'base'),
  image('deployed', '', ['paas/web:v1', 'nginx:1']),
];

describe('ImageOwners', () => {
  const owners = new ImageOwners(LIST);
  const apps = (id: string) => [...owners.of(id).apps].sort();

  test('an app owns its paas/<app> images and their untagged ancestors, shared cache layers by both', () => {
    assert.deepEqual(apps('victim-1'), ['victim']);
    assert.deepEqual(apps('v-secret'), ['victim']);
    assert.deepEqual(apps('mine-1'), ['mine']);
    assert.deepEqual(apps('m-step'), ['mine']);
    assert.deepEqual(apps('shared'), ['mine', 'victim']);
  });

  test('the walk stops at a tagged ancestor: another app image in the chain stays that app alone', () => {
    assert.deepEqual(apps('on-victim'), ['mine']);
    assert.deepEqual(apps('victim-1'), ['victim'], 'mine built FROM it does not make it mine');
  });

  test('an image with a tag outside paas/ is a base no app owns; untagged leftovers have no owner', () => {
    assert.deepEqual([owners.of('base').base, apps('base')], [true, []]);
    assert.deepEqual([owners.of('deployed').base, apps('deployed')], [true, []]);
    assert.deepEqual([owners.of('leftover').base, apps('leftover')], [false, []]);
    assert.equal(owners.has('leftover'), true);
    assert.equal(owners.has('unknown'), false);
  });

  test('a broken list with a parent cycle ends', () => {
    const o = new ImageOwners([image('a', 'b'), image('b', 'a'), image('t', 'a', ['paas/x:v1'])]);
    assert.deepEqual([...o.of('b').apps], ['x']);
  });
});

describe('imageRefusal', () => {
  const owners = new ImageOwners(LIST);
  const dev = { app: 'mine', role: 'developer' as const };
  test('a developer: its own chain (even shared) and bases; not another app, not a loose layer unless it brought it', () => {
    for (const id of ['mine-1', 'm-step', 'shared', 'on-victim', 'base', 'deployed'])
      assert.equal(imageRefusal(dev, owners.of(id)), null, id);
    assert.deepEqual(imageRefusal(dev, owners.of('victim-1')), { owners: ['victim'] });
    assert.deepEqual(imageRefusal(dev, owners.of('v-secret')), { owners: ['victim'] });
    assert.deepEqual(imageRefusal(dev, owners.of('leftover')), { owners: [] });
    assert.equal(imageRefusal(dev, owners.of('leftover'), 'allow'), null);
    assert.deepEqual(imageRefusal(dev, owners.of('victim-1'), 'allow'), { owners: ['victim'] });
  });
  test('an admin uses any image', () => {
    for (const e of LIST) assert.equal(imageRefusal({ app: 'mine', role: 'admin' }, owners.of(e.Id)), null);
  });
});

describe('image references', () => {
  test('paas/<app> however the Docker Hub is spelt; other registries and paths are not', () => {
    for (const r of [
      'paas/victim:v1',
      'docker.io/paas/victim:v1',
      'index.docker.io/paas/victim:v1',
      'paas/victim',
      'paas/victim@sha256:' + 'a'.repeat(64),
    ])
      assert.equal(paasRepoApp(r), 'victim', r);
    for (const r of [
      'registry.example.com/paas/victim:v1',
      'paas/victim/x:v1',
      'library/paas:v1',
      'Paas/victim:v1',
      'busybox:1',
      'sha256:abc',
    ])
      assert.equal(paasRepoApp(r), null, r);
  });
  test('the engine grammar: registries with ports, digests, library/ dropped; junk is no reference', () => {
    assert.deepEqual(parseReference('localhost:5000/team/app:1.4'), {
      domain: 'localhost:5000',
      path: 'team/app',
      tag: '1.4',
      digest: null,
    });
    assert.deepEqual(parseReference('docker.io/library/busybox'), { domain: null, path: 'busybox', tag: null, digest: null });
    for (const bad of ['', 'UPPER:1', '../../x', 'a b', '$B', 'x:', ':x', 'a//b', 'x@sha256:zz'])
      assert.equal(parseReference(bad), null, bad);
  });
  test('ids: a full one is stable, hex without a tag may be a prefix', () => {
    assert.equal(isFullImageId(`sha256:${'0'.repeat(64)}`), true);
    assert.equal(isFullImageId('0'.repeat(64)), true);
    assert.equal(mayBeShortImageId('0d3d14'), true);
    assert.equal(mayBeShortImageId('sha256:0d3d'), true);
    assert.equal(mayBeShortImageId('0d3d14:latest'), false);
    assert.equal(mayBeShortImageId('busybox'), false);
  });
});
