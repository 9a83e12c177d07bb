import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { describe, test } from 'node:test';
import { AppLocks } from '../../../src/deploy/app-locks.js';
import type { ImageListEntry } from '../../../src/runtime/image-ownership.js';
import { DeployService } from '../../../src/services/deploy-service.js';
import { Captured } from '../fakes/deploy-fakes.js';
import {
  ADMIN,
  developer,
  FakeImageRelease,
  FakeImageStore,
  FakeOwnership,
  FakePush,
  holdLock,
  never,
  settle,
} from '../fakes/ops-services-fakes.js';

/** A full image id made of one hex digit. */
const id = (hex: string) => `sha256:${hex.repeat(64)}`;
const BASE = id('b');
const OWN = id('a');
const OTHER = id('c');
const LOOSE = id('d');

/** The engine: nginx (a base), app a's v3, app c's v1, and an untagged layer nobody owns. */
const LIST: ImageListEntry[] = [
  { Id: BASE, RepoTags: ['nginx:1.27'] },
  { Id: OWN, ParentId: BASE, RepoTags: ['paas/a:v3'] },
  { Id: OTHER, ParentId: BASE, RepoTags: ['paas/c:v1'] },
  { Id: LOOSE, ParentId: BASE, RepoTags: ['<none>:<none>'] },
];

function services() {
  const images = new FakeImageStore();
  images.has({ id: BASE, exposedPorts: [80] }, 'nginx:1.27');
  images.has({ id: OWN, exposedPorts: [5000] }, 'paas/a:v3');
  images.has({ id: OTHER, exposedPorts: [5000] }, 'paas/c:v1');
  images.has({ id: LOOSE, exposedPorts: [] });
  const ownership = new FakeOwnership();
  ownership.list = LIST;
  const imageRelease = new FakeImageRelease();
  const push = new FakePush();
  const locks = new AppLocks();
  const deploys = new DeployService({
    images,
    ownership,
    imageRelease,
    push,
    repoDir: (app) => `/var/lib/paas/repos/${app}.git`,
    urls: (app) => [`https://${app}.example.test`, `https://www.${app}.example.test`],
    locks,
  });
  return { images, ownership, imageRelease, push, locks, deploys };
}
type S = ReturnType<typeof services>;

const deployed = (s: S) => s.imageRelease.deployed.map((d) => `${d.app} ${d.image.ref} ${d.image.id}`);
const refused = (ref: string, owner: string) => ({
  code: 'PAAS_ERR_IMAGE_OTHER_APP',
  message: `${ref} is ${owner}; a developer key deploys only its own apps' images and base images`,
});
const tar = (text = 'tar bytes') => Readable.from([Buffer.from(text)]);

describe('DeployService.fromImage', () => {
  test('an image on the engine becomes a release of the app, made from its id', async () => {
    const s = services();
    const out = new Captured();
    const r = await s.deploys.fromImage('a', 'nginx:1.27', developer('a'), out, never);
    assert.equal(r.release.version, 2);
    assert.equal(r.release.image, BASE);
    assert.equal(r.url, 'https://a.example.test');
    assert.match(r.elapsed, /^\d+\.\d s$/);
    assert.deepEqual(s.imageRelease.deployed, [{ app: 'a', image: { ref: 'nginx:1.27', id: BASE, exposedPorts: [80] } }]);
    assert.equal(out.text, `-----> Deploying nginx:1.27 (bbbbbbbbbbbb)\n       released ${BASE}\n`);
    assert.deepEqual(s.images.calls, ['inspect nginx:1.27', `inspect ${BASE}`]);
  });

  test("a developer key deploys its app's own images and base images, whatever the spelling", async () => {
    const s = services();
    s.images.has({ id: OWN, exposedPorts: [5000] }, 'docker.io/paas/a:v3');
    for (const ref of ['paas/a:v3', 'docker.io/paas/a:v3', `sha256:${'a'.repeat(64)}`, 'nginx:1.27']) {
      await s.deploys.fromImage('a', ref, developer('a'), new Captured(), never);
    }
    assert.deepEqual(deployed(s), [
      `a paas/a:v3 ${OWN}`,
      `a docker.io/paas/a:v3 ${OWN}`,
      `a sha256:${'a'.repeat(64)} ${OWN}`,
      `a nginx:1.27 ${BASE}`,
    ]);
  });

  test("a developer key naming another app's paas/ image is refused by its spelling, before the engine is asked", async () => {
    const s = services();
    for (const ref of ['paas/c:v1', 'docker.io/paas/c:v1', 'paas/nothere:v9']) {
      const app = ref.includes('nothere') ? 'nothere' : 'c';
      await assert.rejects(s.deploys.fromImage('a', ref, developer('a'), new Captured(), never), refused(ref, `an image of app '${app}'`));
    }
    assert.deepEqual(s.images.calls, []);
    assert.deepEqual(s.imageRelease.deployed, []);
  });

  test("another app's image reached by id, and an untagged layer nobody owns, are refused by id", async () => {
    const s = services();
    const byId = `sha256:${'c'.repeat(64)}`;
    await assert.rejects(s.deploys.fromImage('a', byId, developer('a'), new Captured(), never), refused(byId, "an image of app 'c'"));
    s.images.has({ id: OTHER, exposedPorts: [] }, 'innocent:1');
    s.ownership.list = LIST.map((e) => (e.Id === OTHER ? { ...e, RepoTags: ['paas/c:v1', 'paas/e:v2'] } : e));
    await assert.rejects(s.deploys.fromImage('a', 'innocent:1', developer('a'), new Captured(), never), {
      code: 'PAAS_ERR_IMAGE_OTHER_APP',
      message: "innocent:1 is an image of apps 'c', 'e'; a developer key deploys only its own apps' images and base images",
    });
    const loose = `sha256:${'d'.repeat(64)}`;
    await assert.rejects(
      s.deploys.fromImage('a', loose, developer('a'), new Captured(), never),
      refused(loose, "an untagged image that is not one of this app's own (a layer left by a build)"),
    );
    assert.deepEqual(s.imageRelease.deployed, []);
  });

  test('an admin key deploys any image, without reading the ownership list', async () => {
    const s = services();
    await s.deploys.fromImage('a', 'paas/c:v1', ADMIN, new Captured(), never);
    await s.deploys.fromImage('a', `sha256:${'d'.repeat(64)}`, ADMIN, new Captured(), never);
    assert.deepEqual(deployed(s), [`a paas/c:v1 ${OTHER}`, `a sha256:${'d'.repeat(64)} ${LOOSE}`]);
    assert.equal(s.ownership.reads, 0);
  });

  test('an image the engine lacks is pulled first; one the pull did not bring is an error', async () => {
    const s = services();
    s.images.registry.set('redis:7', { id: id('e'), exposedPorts: [6379] });
    s.ownership.list = [...LIST, { Id: id('e'), RepoTags: ['redis:7'] }];
    const out = new Captured();
    await s.deploys.fromImage('a', 'redis:7', developer('a'), out, never);
    assert.match(out.text, /^-----> Pulling redis:7\npulled redis:7\n/);
    assert.deepEqual(s.images.calls.slice(0, 3), ['inspect redis:7', 'pull redis:7', 'inspect redis:7']);
    await assert.rejects(s.deploys.fromImage('a', 'ghost:1', developer('a'), new Captured(), never), {
      code: 'PAAS_ERR_IMAGE_GONE',
      message: 'ghost:1 vanished from the engine before it could be deployed',
    });
    assert.deepEqual(deployed(s), [`a redis:7 ${id('e')}`]);
  });

  test('a reference that is not IMAGE:TAG is a usage error before anything is asked', async () => {
    const s = services();
    for (const bad of ['nginx', 'Nginx:1', 'nginx:', '-x:1', 'a b:1']) {
      await assert.rejects(s.deploys.fromImage('a', bad, ADMIN, new Captured(), never), { code: 'PAAS_ERR_IMAGE_REF', exitCode: 2 });
    }
    assert.deepEqual(s.images.calls, []);
  });
});

describe('DeployService.loadImage', () => {
  test("a developer's upload that no app owns is deployed from the id it loaded as", async () => {
    const s = services();
    s.images.loads = { id: id('f'), exposedPorts: [8080] };
    s.ownership.list = [...LIST, { Id: id('f'), RepoTags: [] }];
    const out = new Captured();
    const r = await s.deploys.loadImage('a', 'myapp:1.4', tar('0123456789'), developer('a'), out, never);
    assert.equal(r.release.image, id('f'));
    assert.deepEqual(s.images.calls, ['load myapp:1.4 (10 bytes)', `inspect ${id('f')}`]);
    assert.deepEqual(s.imageRelease.deployed, [{ app: 'a', image: { ref: 'myapp:1.4', id: id('f'), exposedPorts: [8080] } }]);
    assert.equal(
      out.text,
      `-----> Loading myapp:1.4 from stdin\n       loaded ${id('f')}\n-----> Deploying myapp:1.4 (ffffffffffff)\n       released ${id('f')}\n`,
    );
  });

  test("an upload that turns out to be another app's image is refused and left in place", async () => {
    const s = services();
    s.images.loads = { id: OTHER, exposedPorts: [] };
    await assert.rejects(
      s.deploys.loadImage('a', 'mine:1', tar(), developer('a'), new Captured(), never),
      refused('mine:1', "an image of app 'c'"),
    );
    assert.deepEqual(s.imageRelease.deployed, []);
    assert.equal((await s.images.inspect('paas/c:v1'))?.id, OTHER);
  });

  test("a developer naming another app's paas/ repository is refused before the upload is read", async () => {
    const s = services();
    await assert.rejects(
      s.deploys.loadImage('a', 'paas/c:v2', tar(), developer('a'), new Captured(), never),
      refused('paas/c:v2', "an image of app 'c'"),
    );
    assert.deepEqual(s.images.calls, []);
    const r = await s.deploys.loadImage('a', 'paas/c:v2', tar(), ADMIN, new Captured(), never);
    assert.equal(r.release.image, 'sha256:loaded', 'an admin key may');
  });

  test('the upload happens before the app lock; the release waits for it', async () => {
    const s = services();
    const release = holdLock(s.locks, 'a', 'a git push');
    const out = new Captured();
    const pending = s.deploys.loadImage('a', 'myapp:2', tar(), ADMIN, out, never);
    await settle(10);
    assert.deepEqual(s.images.calls, ['load myapp:2 (9 bytes)']);
    assert.match(out.text, /-----> Waiting for a git push of a to finish\n$/);
    assert.deepEqual(s.imageRelease.deployed, []);
    await release();
    await pending;
    assert.deepEqual(deployed(s), ['a myapp:2 sha256:loaded']);
  });

  test('an image gone from the engine by the time the lock is taken is an error, and no release', async () => {
    const s = services();
    s.images.loads = { id: BASE, exposedPorts: [] };
    const owners = s.ownership.owners.bind(s.ownership);
    s.ownership.owners = async () => {
      s.images.images.delete(BASE);
      return owners();
    };
    await assert.rejects(s.deploys.loadImage('a', 'myapp:3', tar(), developer('a'), new Captured(), never), {
      code: 'PAAS_ERR_IMAGE_GONE',
      message: 'myapp:3 vanished from the engine before it could be deployed',
    });
    assert.deepEqual(s.imageRelease.deployed, []);
  });
});

describe('DeployService.rebuild', () => {
  test("builds the app's deploy branch again as the caller and returns the push's exit code", async () => {
    const s = services();
    s.push.code = 0;
    assert.equal(await s.deploys.rebuild('a', developer('a'), new Captured(), never), 0);
    s.push.code = 1;
    assert.equal(await s.deploys.rebuild('a', ADMIN, new Captured(), never), 1);
    assert.deepEqual(s.push.rebuilds, ['a /var/lib/paas/repos/a.git by dev', 'a /var/lib/paas/repos/a.git by ops']);
  });

  test('an app with nothing pushed has nothing to rebuild', async () => {
    const s = services();
    s.push.code = null;
    await assert.rejects(s.deploys.rebuild('a', ADMIN, new Captured(), never), {
      code: 'PAAS_ERR_REBUILD_NOTHING',
      message: "app 'a' has no pushed main (or master) branch to rebuild",
    });
  });

  test('waits for the app lock and says who holds it', async () => {
    const s = services();
    const release = holdLock(s.locks, 'a', 'a config change');
    const out = new Captured();
    const pending = s.deploys.rebuild('a', ADMIN, out, never);
    await settle(1);
    assert.equal(out.text, '-----> Waiting for a config change of a to finish\n');
    assert.deepEqual(s.push.rebuilds, []);
    await release();
    assert.equal(await pending, 0);
  });
});
