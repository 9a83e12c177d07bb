import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { commitFiles, push, viaProxy } from '../helpers/app-repo.js';
import { serverWithApp } from '../helpers/deployed-app.js';
import { dockerClient, runFilter } from '../helpers/docker.js';
import { makeKey, type PaasServer } from '../helpers/paas-server.js';

// Host paths for storage over real OpenSSH against a real `paas server` and Docker: even an admin
// mounts only under the app's storage dir or a root allowed with storage:allow-root; symlinks are
// never followed, neither one planted by the app before a mount nor one planted after it (the next
// rollout fails before starting a container and the old containers keep serving).

const APP = 'roots1';
const HOST = `${APP}.paas.test`;
let paas: PaasServer;
let dir: string;
let own: string;
/** a dir under /srv made for this test, allowed as a root midway */
const srvRoot = path.join('/srv', `paas-test-roots-${process.pid}`);

before(async () => {
  ({ paas, dir } = await serverWithApp(APP, 'roots'));
  own = path.join(fs.realpathSync(paas.dataDir), 'storage', APP);
  fs.mkdirSync(path.join(srvRoot, 'shared'), { recursive: true });
  fs.writeFileSync(path.join(srvRoot, 'shared', 'hello.txt'), 'from /srv\n');
});
after(async () => {
  await paas?.destroy();
  fs.rmSync(srvRoot, { recursive: true, force: true });
});

/** Runs a command that must fail with exactly `stderr` (one line) and exit `code`, printing `stdout` (default nothing). */
async function refused(cmd: string, stderr: string, code = 1, key?: string, stdout = ''): Promise<void> {
  const r = await paas.ssh(cmd, key ? { key } : {});
  assert.deepEqual(
    { exitCode: r.exitCode, stderr: r.stderr, stdout: r.stdout },
    { exitCode: code, stderr: `error: ${stderr}\n`, stdout },
    cmd,
  );
}

async function ok(cmd: string, stdout?: string): Promise<string> {
  const r = await paas.ssh(cmd);
  assert.equal(r.exitCode, 0, `${cmd}: ${r.stdout} ${r.stderr}`);
  if (stdout !== undefined) assert.equal(r.stdout, stdout, cmd);
  return r.stdout;
}

/** The ids of this app's containers (web and one-offs alike), sorted. */
async function containerIds(): Promise<string[]> {
  const list = await dockerClient().listContainers({ all: true, filters: { label: [`paas.app=${APP}`, runFilter(paas.labels)] } });
  return list.map((c) => c.Id).sort();
}

test('an admin cannot mount /etc, /root/.ssh, /var/lib/docker, ../x or a /srv dir that is not under an allowed root', async () => {
  const never = (p: string) => `${p} is never mounted into apps; nothing was changed`;
  await refused(`storage:mount ${APP} /etc:/x`, `refusing to mount /etc: ${never('/etc')}`);
  await refused(`storage:mount ${APP} /root/.ssh:/x`, `refusing to mount /root/.ssh: ${never('/root')}`);
  await refused(`storage:mount ${APP} /var/lib/docker:/x`, `refusing to mount /var/lib/docker: ${never('/var/lib/docker')}`);
  await refused(`storage:mount ${APP} ../x:/x`, "refusing to mount ../x: '..' is never allowed in a host dir; nothing was changed");
  await refused(
    `storage:mount ${APP} ${srvRoot}/shared:/shared:ro`,
    `refusing to mount ${srvRoot}/shared: it is outside ${own} and any allowed root (there is none); an admin may allow one with storage:allow-root DIR; nothing was changed`,
  );
  assert.deepEqual(JSON.parse(await ok(`storage:list ${APP} --json`)), [], 'the refusals changed nothing');
});

test('storage:allow-root DIR (admin only, checked) lets an admin mount under DIR; --remove takes it back', async () => {
  const dev = await makeKey(paas.keyDir, 'dev');
  const add = await paas.ssh(`ssh-keys:add dev --role developer --apps ${APP}`, { input: fs.readFileSync(dev.pub, 'utf8') });
  assert.equal(add.exitCode, 0, add.stderr);
  await refused(`storage:allow-root ${srvRoot}`, "'storage:allow-root' needs an admin key", 1, dev.priv);

  await refused('storage:allow-root /etc', 'refusing the root /etc: /etc is never mounted into apps; nothing was changed');
  await refused('storage:allow-root srv', "a root must be an absolute path, got 'srv'; nothing was changed", 2);
  await refused(
    `storage:allow-root ${srvRoot}/missing`,
    `a root must be an existing directory, got '${srvRoot}/missing'; nothing was changed`,
    2,
  );
  await ok('storage:allow-root', "no allowed roots (only each app's own storage dir)\n");
  await ok(`storage:allow-root ${srvRoot}`, `Admin keys may now mount host dirs under ${srvRoot}\n`);
  await ok('storage:allow-root --json', `${JSON.stringify([srvRoot], null, 2)}\n`);

  await refused(
    `storage:mount ${APP} ${srvRoot}/shared:/shared:ro`,
    `refusing to mount ${srvRoot}/shared: only admin keys may mount a host dir outside ${own}; nothing was changed`,
    1,
    dev.priv,
  );
  await ok(`storage:mount ${APP} ${srvRoot}/shared:/www/shared:ro`);
  assert.match(await ok(`storage:list ${APP}`), new RegExp(`allowed roots \\(storage:allow-root\\): ${srvRoot}\n$`));
  await ok(`ps:restart ${APP}`);
  const res = await viaProxy(paas, HOST, '/shared/hello.txt');
  assert.deepEqual([res.status, res.body], [200, 'from /srv\n']);

  await ok(`storage:unmount ${APP} /www/shared`);
  await ok(
    `storage:allow-root --remove ${srvRoot}`,
    `Removed the allowed root ${srvRoot}; mounts under it are refused at their app's next rollout\n`,
  );
  await refused(`storage:allow-root --remove ${srvRoot}`, `${srvRoot} is not an allowed root (allowed: none)`);
  await refused(
    `storage:mount ${APP} ${srvRoot}/shared:/www/shared:ro`,
    `refusing to mount ${srvRoot}/shared: it is outside ${own} and any allowed root (there is none); an admin may allow one with storage:allow-root DIR; nothing was changed`,
  );
});

test('a symlink the app plants in its storage is refused at storage:mount', async () => {
  await ok(`storage:mount ${APP} data:/data`);
  await ok(`run ${APP} ln -s /etc /data/link`);
  assert.equal(fs.readlinkSync(path.join(own, 'data', 'link')), '/etc');
  const msg = (host: string) =>
    `refusing to mount ${host}: ${own}/data/link is a symlink (symlinks on a host path are never followed); nothing was changed`;
  await refused(`storage:mount ${APP} data/link:/hostetc`, msg('data/link'));
  await refused(`storage:mount ${APP} data/link/ssh:/x`, msg('data/link/ssh'));
  await refused(`storage:mount ${APP} ${own}/data/link:/x`, msg(`${own}/data/link`));
  assert.deepEqual(JSON.parse(await ok(`storage:list ${APP} --json`)), [{ host: `${own}/data`, container: '/data', readOnly: false }]);
});

test('a symlink planted after the mount makes the next ps:restart fail before starting a container; the old containers keep serving', async () => {
  await commitFiles(dir, { 'www/sub/.keep': '' });
  assert.equal((await push(paas, dir, APP)).exitCode, 0);
  // data/sub inside the writable data:/data would be refused (nested); so data goes first
  await ok(`storage:unmount ${APP} /data`);
  await ok(`storage:mount ${APP} data/sub:/www/sub`);
  fs.writeFileSync(path.join(own, 'data', 'sub', 'page.txt'), 'mounted\n');
  await ok(`ps:restart ${APP}`);
  let res = await viaProxy(paas, HOST, '/sub/page.txt');
  assert.deepEqual([res.status, res.body], [200, 'mounted\n']);

  // no container can reach data/ any more (no bind may nest in a writable one), so the link is
  // planted from the host, as a nested pair stored before that rule, or anything else on the host, could
  fs.renameSync(path.join(own, 'data', 'sub'), path.join(own, 'data', 'sub.old'));
  fs.symlinkSync('/etc', path.join(own, 'data', 'sub'));
  const before = await containerIds();

  const sub = `${own}/data/sub`;
  await refused(
    `ps:restart ${APP}`,
    `refusing to mount ${sub} at /www/sub in ${APP}: ${sub} is a symlink (symlinks on a host path are never followed); no container was started and the running ones keep serving (storage:unmount ${APP} /www/sub)`,
    1,
    undefined,
    `-----> Restarting ${APP} v2\n-----> Starting web=1\n`,
  );
  assert.deepEqual(await containerIds(), before, 'no container was created or removed');
  res = await viaProxy(paas, HOST, '/sub/page.txt');
  assert.deepEqual([res.status, res.body], [200, 'mounted\n'], 'the old container still serves its mount');
  res = await viaProxy(paas, HOST, '/');
  assert.deepEqual([res.status, res.body], [200, 'roots\n']);

  // unmounting it lets the app roll out again
  await ok(`storage:unmount ${APP} /www/sub`);
  await ok(`ps:restart ${APP}`);
  res = await viaProxy(paas, HOST, '/');
  assert.deepEqual([res.status, res.body], [200, 'roots\n']);
});
