import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import { Captured } from '../fakes/deploy-fakes.js';
import { ADMIN, appSetup, developer, liveApp, never, pushHoldsLock, settle } from '../fakes/app-services-fakes.js';

/** A developer key stored in State (the grant goes to the stored key). */
function devKey(s: ReturnType<typeof appSetup>, name = 'dev') {
  const row = s.state.keys.add(name, `SHA256:${name}`, `ssh-ed25519 ${name}`, 'developer', true);
  return { id: row.id, identity: developer([], name) };
}

describe('AppService: create and ensure', () => {
  test('create makes the repo and the app; an admin creator gets no grant, a developer creator is granted the app', async () => {
    const s = appSetup();
    const dev = devKey(s);
    const root = s.state.keys.add(ADMIN.keyName, 'SHA256:root', 'ssh-ed25519 root', 'admin');
    await s.apps.create('a', ADMIN);
    await s.apps.create('b', dev.identity);
    assert.deepEqual(s.effects.ensuredRepos, ['a', 'b']);
    assert.deepEqual(s.state.keys.appsOf(root.id), []);
    assert.deepEqual(
      s.state.apps.list().map((a) => a.name),
      ['a', 'b'],
    );
    assert.deepEqual(s.state.keys.appsOf(dev.id), ['b']);
    assert.equal(s.apps.exists('a'), true);
    assert.equal(s.apps.exists('c'), false);
  });

  test('ensure of an existing app changes nothing but the grant of a developer pushing to it', async () => {
    const s = appSetup();
    const dev = devKey(s);
    s.state.apps.create('a');
    const created = s.state.apps.get('a')!.created_at;
    await s.apps.ensure('a', ADMIN);
    await s.apps.ensure('a', dev.identity);
    assert.equal(s.state.apps.get('a')!.created_at, created);
    assert.deepEqual(s.state.keys.appsOf(dev.id), ['a']);
    assert.deepEqual(s.effects.ensuredRepos, [], 'ensure leaves the repo to the push');
  });

  test('a new app takes back its default host from the app that had it as a custom domain', async () => {
    const s = appSetup();
    s.state.apps.create('a');
    await s.domains.add('a', 'later.example.test', ADMIN);
    await s.domains.add('a', 'shop.com', ADMIN);
    await s.apps.ensure('later', ADMIN);
    assert.deepEqual(s.state.domains.list('a'), ['shop.com']);
    assert.deepEqual(s.domains.hosts('later'), ['later.example.test']);
    assert.deepEqual(
      s.logged.map((e) => [e.msg, e.was]),
      [["a new app's default host was another app's custom domain: removed from it", 'a']],
    );
  });

  test('only a newly made app claims its host: ensure of an existing one leaves the stored domain', async () => {
    const s = appSetup();
    s.state.apps.create('a');
    s.state.apps.create('later');
    s.state.domains.add('a', 'later.example.test');
    await s.apps.ensure('later', ADMIN);
    assert.deepEqual(s.state.domains.list('a'), ['later.example.test']);
  });

  test('a concurrent first push that made the app first is fine: no error, the grant, no claim', async () => {
    let tries = 0;
    const s = appSetup({
      apps: {
        // the other push made it between the check and the create
        exists: () => tries > 0,
        create: () => {
          tries++;
          throw new Error('UNIQUE constraint failed: apps.name');
        },
        get: () => undefined,
        list: () => [],
        delete: () => undefined,
      },
    });
    const dev = devKey(s);
    s.state.apps.create('a');
    s.state.apps.create('later');
    s.state.domains.add('a', 'later.example.test');
    await s.apps.ensure('later', dev.identity);
    assert.equal(tries, 1);
    assert.deepEqual(s.state.keys.appsOf(dev.id), ['later']);
    assert.deepEqual(s.state.domains.list('a'), ['later.example.test']);
  });

  test('any other failure to create the app fails the push, with no grant', async () => {
    const s = appSetup({
      apps: {
        exists: () => false,
        create: () => {
          throw new Error('SQLITE_FULL: database or disk is full');
        },
        get: () => undefined,
        list: () => [],
        delete: () => undefined,
      },
    });
    const dev = devKey(s);
    await assert.rejects(s.apps.ensure('later', dev.identity), /SQLITE_FULL/);
    assert.deepEqual(s.state.keys.appsOf(dev.id), []);
  });
});

describe('AppService: list and info', () => {
  test('list shows an admin every app, a developer only its granted apps, with the live release', async () => {
    const s = appSetup();
    await liveApp(s, 'b');
    s.state.apps.create('a');
    s.state.apps.create('c');
    const rows = s.apps.list(ADMIN);
    assert.deepEqual(
      rows.map((r) => [r.name, r.release]),
      [
        ['a', null],
        ['b', 'v1'],
        ['c', null],
      ],
    );
    assert.equal(rows[0]!.createdAt, s.state.apps.get('a')!.created_at);
    assert.deepEqual(
      s.apps.list(developer(['b', 'c', 'gone'])).map((r) => r.name),
      ['b', 'c'],
    );
    assert.deepEqual(s.apps.list(developer([])), []);
  });

  test("info of a live app: its release, hosts, formation and its containers' public fields", async () => {
    const s = appSetup();
    await liveApp(s, 'a', { web: 1, worker: 2 });
    await s.domains.add('a', 'shop.com', ADMIN);
    const info = await s.apps.info('a');
    const web = [...s.runtime.containers.values()].find((c) => c.process === 'web')!;
    assert.deepEqual(
      { ...info, containers: info.containers.length },
      {
        name: 'a',
        createdAt: s.state.apps.get('a')!.created_at,
        url: 'http://a.example.test',
        release: 1,
        image: 'paas/a:v1',
        commit: 'abc',
        domains: ['a.example.test', 'shop.com'],
        formation: { web: 1, worker: 2 },
        containers: 3,
      },
    );
    assert.deepEqual(
      info.containers.find((c) => c.process === 'web'),
      {
        id: web.id,
        name: 'a.web.1.v1',
        process: 'web',
        release: 1,
        replica: 1,
        state: 'running',
        ip: web.ip,
        startedAt: web.startedAt,
        restartCount: 0,
      },
    );
  });

  test('info before the first deploy: no release, image, commit or containers', async () => {
    const s = appSetup();
    s.state.apps.create('a');
    assert.deepEqual(await s.apps.info('a'), {
      name: 'a',
      createdAt: s.state.apps.get('a')!.created_at,
      url: 'http://a.example.test',
      release: null,
      image: null,
      commit: null,
      domains: ['a.example.test'],
      formation: {},
      containers: [],
    });
  });
});

describe('AppService: destroy', () => {
  test('without --force or the name again nothing is destroyed', async () => {
    const s = appSetup();
    await liveApp(s, 'a');
    await assert.rejects(s.apps.destroy('a', { force: false, name: undefined }, new Captured(), never), {
      code: 'PAAS_ERR_APP_CONFIRM',
      message: "this destroys a and all its data; confirm with --force or 'apps:destroy a a'",
      exitCode: 2,
    });
    await assert.rejects(s.apps.destroy('a', { force: false, name: 'b' }, new Captured(), never), {
      code: 'PAAS_ERR_APP_CONFIRM',
      message: "confirmation 'b' does not match the app name 'a'; nothing was destroyed",
    });
    assert.equal(s.state.apps.exists('a'), true);
    assert.deepEqual(s.runtime.running('a'), ['a.web.1.v1']);
    assert.deepEqual(s.proxy.removed, []);
    assert.deepEqual(s.effects.removedRepos, []);
  });

  test('destroy removes the routes, containers, add-on links, network, images, repo, dirs and rows of the app only', async () => {
    const s = appSetup();
    await liveApp(s, 'a', { web: 2 });
    await s.domains.add('a', 'shop.com', ADMIN);
    await liveApp(s, 'b');
    const dev = devKey(s);
    s.state.keys.grant(dev.id, ['a', 'b']);
    const v1 = s.state.releases.current('a')!;
    s.state.releases.create({ ...v1, description: 'Set K', status: 'failed' });
    s.state.releases.create({ ...v1, image: 'paas/a:v3', status: 'failed' });
    s.state.releases.create({ ...v1, image: null, status: 'failed' });
    const dirs = s.appDirs('a');
    for (const d of [...dirs, ...s.appDirs('b')]) fs.mkdirSync(d, { recursive: true });
    fs.writeFileSync(path.join(dirs[0]!, 'data'), 'x');
    const out = new Captured();
    await s.apps.destroy('a', { force: false, name: 'a' }, out, never);
    assert.equal(out.text, '-----> Stopping 2 container(s)\n');
    assert.deepEqual(s.proxy.removed, ['a']);
    assert.deepEqual(s.runtime.running('a'), []);
    assert.deepEqual(s.runtime.running('b'), ['b.web.1.v1']);
    assert.deepEqual(s.effects.detached, ['a']);
    assert.deepEqual(s.runtime.removedNetworks, ['a']);
    assert.deepEqual(s.runtime.removedImages.sort(), ['paas/a:v1', 'paas/a:v3']);
    assert.deepEqual(s.effects.removedRepos, ['a']);
    assert.deepEqual(
      dirs.map((d) => fs.existsSync(d)),
      [false, false],
    );
    assert.deepEqual(
      s.appDirs('b').map((d) => fs.existsSync(d)),
      [true, true],
    );
    assert.equal(s.state.apps.exists('a'), false);
    assert.equal(s.state.domains.owner('shop.com'), undefined);
    assert.deepEqual(s.state.releases.list('a', 100), []);
    assert.deepEqual(s.state.keys.appsOf(dev.id), ['b'], "the app's grants go with it");
    assert.deepEqual(s.effects.destroyed, ['a']);
    assert.equal(s.state.apps.exists('b'), true);
  });

  test('--force destroys an app that never deployed without a word about containers', async () => {
    const s = appSetup();
    s.state.apps.create('a');
    const out = new Captured();
    await s.apps.destroy('a', { force: true, name: undefined }, out, never);
    assert.equal(out.text, '');
    assert.deepEqual(s.runtime.removedImages, []);
    assert.equal(s.state.apps.exists('a'), false);
  });

  test('destroy waits for the app lock and says who holds it', async () => {
    const s = appSetup();
    s.state.apps.create('a');
    const release = await pushHoldsLock(s.locks, 'a');
    const out = new Captured();
    const destroying = s.apps.destroy('a', { force: true, name: undefined }, out, never);
    await settle();
    assert.equal(out.text, '-----> Waiting for a git push of a to finish\n');
    assert.equal(s.state.apps.exists('a'), true);
    await release();
    await destroying;
    assert.equal(s.state.apps.exists('a'), false);
  });

  test('a failed image removal or TLS update after destroy is logged, and the app is still gone', async () => {
    const s = appSetup({
      afterDestroy: () => Promise.reject(new Error('proxy down')),
    });
    await liveApp(s, 'a');
    s.runtime.removeImages = () => Promise.reject(new Error('image in use'));
    await s.apps.destroy('a', { force: true, name: undefined }, new Captured(), never);
    assert.equal(s.state.apps.exists('a'), false);
    assert.deepEqual(
      s.logged.map((e) => [e.msg, e.app]),
      [
        ['image removal failed', 'a'],
        ['TLS update after destroy failed', 'a'],
      ],
    );
  });
});
