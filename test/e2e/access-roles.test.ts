// Roles per key, driven as users would: an admin registers a developer key for one app and a CI
// key that may create apps; each then runs commands and git over the real OpenSSH client.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { execa } from 'execa';
import { State } from '../../src/state/state.js';
import { busyboxApp, commitFiles, healthAppJson, remoteSha, viaProxy } from '../helpers/app-repo.js';
import { serverWithApp } from '../helpers/deployed-app.js';
import { makeKey, type PaasServer, sshOptions } from '../helpers/paas-server.js';
import { waitFor } from '../helpers/wait.js';

let paas: PaasServer;
let dev: { priv: string; pub: string };
let ci: { priv: string; pub: string };

const noAccess = (key: string, app: string) =>
  `error: key '${key}' has no access to app '${app}' (an admin can grant it: ssh-keys:grant ${key} ${app})\n`;

before(async () => {
  ({ paas } = await serverWithApp('shop', 'shop-v1'));
  assert.equal((await paas.ssh('apps:create blog')).exitCode, 0);
  dev = await makeKey(paas.keyDir, 'dev');
  ci = await makeKey(paas.keyDir, 'ci');
  const addDev = await paas.ssh('ssh-keys:add dev --role developer --apps shop', { input: fs.readFileSync(dev.pub, 'utf8') });
  assert.equal(addDev.exitCode, 0, addDev.stderr);
  assert.match(addDev.stdout, /^Added key dev \(ssh-ed25519 SHA256:[^)]+\) as developer: apps shop\n$/);
  const addCi = await paas.ssh('ssh-keys:add ci --role developer --can-create', { input: fs.readFileSync(ci.pub, 'utf8') });
  assert.equal(addCi.exitCode, 0, addCi.stderr);
});

after(async () => {
  await paas?.destroy();
});

const asDev = (cmd: string) => paas.ssh(cmd, { key: dev.priv });
const asCi = (cmd: string) => paas.ssh(cmd, { key: ci.priv });
const gitEnvOf = (key: string) => ({ GIT_SSH_COMMAND: `ssh ${sshOptions(key, paas.ports.ssh).join(' ')}` });

describe('a developer key', () => {
  test('operates its own app: config, ps, logs, releases', async () => {
    const set = await asDev('config:set shop GREETING=hi');
    assert.equal(set.exitCode, 0, set.stderr);
    assert.match(set.stdout, /Set GREETING on shop: v2 is live\n$/);
    assert.equal((await asDev('config:get shop GREETING')).stdout, 'hi\n');
    assert.equal((await asDev('ps:report shop --json')).exitCode, 0);
    assert.equal((await asDev('releases shop')).exitCode, 0);
    assert.equal((await asDev('logs shop -n 1')).exitCode, 0);
  });

  test('is refused another app, and cannot tell whether an app it has no access to exists', async () => {
    for (const [cmd, app] of [
      ['config:show blog', 'blog'],
      ['ps:restart blog', 'blog'],
      ['config:show nope', 'nope'],
      ['logs --app blog', 'blog'],
    ] as const) {
      const r = await asDev(cmd);
      assert.equal(r.exitCode, 1, cmd);
      assert.equal(r.stderr, noAccess('dev', app), cmd);
    }
  });

  test('is refused admin commands, app creation and destruction, each with one line naming the right', async () => {
    const cases: [string, string][] = [
      ['ssh-keys:list', "error: 'ssh-keys:list' needs an admin key\n"],
      ['ssh-keys:add dev2', "error: 'ssh-keys:add' needs an admin key\n"],
      ['domains:set-global evil.test', "error: 'domains:set-global' needs an admin key\n"],
      ['apps:create mine', "error: 'apps:create' needs an admin key or a key added with --can-create\n"],
      ['apps:destroy shop --force', "error: 'apps:destroy' needs an admin key or a key added with --can-create\n"],
      ['ps:set shop max-replicas 500', "error: 'ps:set max-replicas' needs an admin key\n"],
    ];
    for (const [cmd, line] of cases) {
      const r = await asDev(cmd);
      assert.equal(r.exitCode, 1, cmd);
      assert.equal(r.stderr, line, cmd);
    }
    assert.equal((await paas.ssh('config:get shop GREETING')).stdout, 'hi\n', 'nothing changed');
  });

  test('mounts only inside its own app storage', async () => {
    const r = await asDev('storage:mount shop /etc:/host-etc');
    assert.equal(r.exitCode, 1);
    assert.match(r.stderr, /^error: (refusing to mount|only admin keys may mount) \/etc[: ].*nothing was changed\n$/);
    assert.equal((await asDev('storage:mount shop data:/data')).exitCode, 0);
  });

  test("sets resource limits only within the host's defaults", async () => {
    const huge = await asDev('resource:limit shop memory=1000g');
    assert.equal(huge.exitCode, 1);
    assert.match(huge.stderr, /^error: memory 1000g is above [0-9.]+[gm] \(this host's memory\); an admin key may set more\n$/);
    assert.equal((await paas.ssh('resource:set-global memory 256m')).exitCode, 0);
    try {
      const above = await asDev('resource:limit shop memory=512m');
      assert.equal(
        above.stderr,
        'error: memory 512m is above 256m (the default set with resource:set-global); an admin key may set more\n',
      );
      const lift = await asDev('resource:limit shop memory=none');
      assert.equal(
        lift.stderr,
        'error: a developer key cannot lift the memory limit; the most it may set is 256m (the default set with resource:set-global)\n',
      );
      assert.equal((await asDev('resource:limit shop memory=128m')).exitCode, 0);
      assert.equal((await paas.ssh('resource:limit shop memory=512m')).exitCode, 0, 'an admin may');
      assert.equal((await asDev('resource:set-global memory none')).stderr, "error: 'resource:set-global' needs an admin key\n");
    } finally {
      await paas.ssh('resource:set-global memory none');
      await paas.ssh('resource:limit shop memory=none');
    }
  });

  test('lists only its apps', async () => {
    const r = await asDev('apps:list --json');
    assert.deepEqual(
      (JSON.parse(r.stdout) as { name: string }[]).map((a) => a.name),
      ['shop'],
    );
    const all = await paas.ssh('apps:list --json');
    assert.deepEqual((JSON.parse(all.stdout) as { name: string }[]).map((a) => a.name).sort(), ['blog', 'shop']);
  });

  test('pushes to its app, and is refused a push or a clone of another app (the branch does not move)', async () => {
    const dir = path.join(paas.dataDir, 'work', 'dev-shop');
    await commitFiles(dir, busyboxApp('shop-by-dev', { 'app.json': healthAppJson() }));
    const ok = await execa('git', ['-C', dir, 'push', '--force', paas.remoteUrl('shop'), 'main'], {
      env: gitEnvOf(dev.priv),
      reject: false,
      all: true,
    });
    assert.equal(ok.exitCode, 0, String(ok.all));
    assert.equal((await viaProxy(paas, 'shop.paas.test', '/')).body.trim(), 'shop-by-dev');
    const before = await remoteSha(paas, 'blog');
    const refused = await execa('git', ['-C', dir, 'push', paas.remoteUrl('blog'), 'main'], {
      env: gitEnvOf(dev.priv),
      reject: false,
      all: true,
    });
    assert.equal(refused.exitCode, 128);
    assert.match(String(refused.all), /has no access to app 'blog'/);
    assert.equal(await remoteSha(paas, 'blog'), before);
    const clone = await execa('git', ['clone', paas.remoteUrl('blog'), path.join(paas.dataDir, 'work', 'stolen')], {
      env: gitEnvOf(dev.priv),
      reject: false,
      all: true,
    });
    assert.equal(clone.exitCode, 128);
    assert.match(String(clone.all), /has no access to app 'blog'/);
  });
});

describe('grants', () => {
  test('grant and revoke take effect at the next command', async () => {
    assert.equal((await paas.ssh('ssh-keys:grant dev blog')).stdout, 'Key dev reaches: blog,shop\n');
    assert.equal((await asDev('config:show blog')).exitCode, 0);
    assert.equal((await paas.ssh('ssh-keys:revoke dev blog')).stdout, 'Key dev reaches: shop\n');
    assert.equal((await asDev('config:show blog')).stderr, noAccess('dev', 'blog'));
    const list = JSON.parse((await paas.ssh('ssh-keys:list --json')).stdout) as {
      name: string;
      role: string;
      apps: string[];
      canCreate: boolean;
    }[];
    assert.deepEqual(
      list.map((k) => [k.name, k.role, k.apps, k.canCreate]),
      [
        ['ci', 'developer', [], true],
        ['dev', 'developer', ['shop'], false],
        ['tester', 'admin', [], false],
      ],
    );
  });

  test('bad input is one line, exit 2 or 1, and changes nothing', async () => {
    const pub = fs.readFileSync(dev.pub, 'utf8');
    const cases: [string, string | undefined, number, RegExp][] = [
      ['ssh-keys:add x --role root', pub, 2, /^error: unknown role 'root' \(use admin or developer\)\n$/],
      ['ssh-keys:add x --apps shop', pub, 2, /^error: --apps and --can-create are for developer keys/],
      ['ssh-keys:add x --role developer --apps nope', pub, 1, /^error: app 'nope' does not exist; nothing was changed\n$/],
      ['ssh-keys:grant tester shop', undefined, 2, /^error: 'tester' is an admin key: it reaches every app already\n$/],
      ['ssh-keys:grant dev Bad_Name', undefined, 2, /^error: invalid app name 'Bad_Name'; nothing was changed\n$/],
      ['ssh-keys:grant ghost shop', undefined, 1, /^error: no key named 'ghost'\n$/],
      ['ssh-keys:revoke dev blog', undefined, 1, /^error: key 'dev' has no grant for blog; nothing was changed\n$/],
    ];
    for (const [cmd, input, code, line] of cases) {
      const r = await paas.ssh(cmd, input === undefined ? {} : { input });
      assert.equal(r.exitCode, code, cmd);
      assert.match(r.stderr, line, cmd);
    }
    const names = (JSON.parse((await paas.ssh('ssh-keys:list --json')).stdout) as { name: string }[]).map((k) => k.name);
    assert.deepEqual(names, ['ci', 'dev', 'tester']);
  });
});

describe('a key with --can-create', () => {
  test('creates an app by pushing to it, owns it, and may destroy it; other apps stay out of reach', async () => {
    const dir = path.join(paas.dataDir, 'work', 'ci-app');
    await commitFiles(dir, busyboxApp('ci-v1', { 'app.json': healthAppJson() }));
    const r = await execa('git', ['-C', dir, 'push', paas.remoteUrl('ci-app'), 'main'], {
      env: gitEnvOf(ci.priv),
      reject: false,
      all: true,
    });
    assert.equal(r.exitCode, 0, String(r.all));
    assert.deepEqual(
      (JSON.parse((await asCi('apps:list --json')).stdout) as { name: string }[]).map((a) => a.name),
      ['ci-app'],
    );
    assert.equal((await asCi('config:show shop')).stderr, noAccess('ci', 'shop'));
    assert.equal((await asCi('apps:destroy shop --force')).stderr, noAccess('ci', 'shop'));
    const created = await asCi('apps:create ci-two');
    assert.equal(created.exitCode, 0, created.stderr);
    const gone = await asCi('apps:destroy ci-app --force');
    assert.equal(gone.exitCode, 0, gone.stderr);
    assert.deepEqual(
      (JSON.parse((await asCi('apps:list --json')).stdout) as { name: string }[]).map((a) => a.name),
      ['ci-two'],
    );
  });
});

describe('the audit trail', () => {
  test('records who pushed which ref of which app with its shas, and never a config value', async () => {
    const state = State.open(path.join(paas.dataDir, 'paas.db'));
    try {
      const rows = state.events.recent(500);
      const pushes = rows.filter((e) => e.command === 'push' && e.app === 'shop' && e.key_name === 'dev');
      assert.equal(pushes.length, 1);
      assert.match(pushes[0]!.detail!, /^refs\/heads\/main [0-9a-f]{12}\.\.[0-9a-f]{12}$/);
      assert.equal(pushes[0]!.exit_code, 0);
      const refusedGit = rows.filter((e) => e.command === 'git-receive-pack' && e.app === 'blog' && e.key_name === 'dev');
      assert.equal(refusedGit.length, 1);
      assert.equal(refusedGit[0]!.exit_code, 1);
      assert.deepEqual(
        rows.filter((e) => e.command === 'git-upload-pack' && e.app === 'blog' && e.key_name === 'dev').map((e) => e.exit_code),
        [1],
      );
      assert.equal(JSON.stringify(rows).includes('GREETING=hi'), false);
      assert.equal(JSON.stringify(rows).includes('"hi"'), false);
    } finally {
      state.close();
    }
  });
});

describe('ssh-keys:remove', () => {
  test("closes the key's open connections at once, and the key is refused from then on", async () => {
    const follower = execa('ssh', [...sshOptions(dev.priv, paas.ports.ssh), 'paas@127.0.0.1', "run shop sh -c 'echo ready; sleep 300'"], {
      reject: false,
    });
    let out = '';
    follower.stdout?.on('data', (d) => (out += d));
    await waitFor('the one-off to print ready', async () => out.includes('ready') || follower.exitCode !== null, 120_000);
    assert.equal(follower.exitCode, null, 'still running');
    const removed = await paas.ssh('ssh-keys:remove dev');
    assert.equal(removed.exitCode, 0, removed.stderr);
    const r = await follower;
    assert.equal(r.exitCode, 255, 'the connection was closed by the server');
    const again = await asDev('apps:list');
    assert.equal(again.exitCode, 255);
    assert.match(again.stderr, /Permission denied \(publickey\)/);
  });
});
