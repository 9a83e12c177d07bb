// Issue 21, hole 2, as an attacker with a developer key would try it, over real OpenSSH against a
// real `paas server` and Docker: mount data:/data and data/x:/x, swap /data/x for a link to / from
// inside the app, then crash it so that Docker's restart policy (not paas) starts it again. Docker
// follows whatever the bind source is by then, so the restarted container had the host's / at /x.
// paas refuses any bind nested in a writable one (of any app), so there is nothing left to swap.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import type Dockerode from 'dockerode';
import { State } from '../../src/state/state.js';
import { busyboxApp, commitFiles, healthAppJson, push, viaProxy } from '../helpers/app-repo.js';
import { serverWithApp } from '../helpers/deployed-app.js';
import { dockerClient, runFilter } from '../helpers/docker.js';
import type { PaasServer } from '../helpers/paas-server.js';
import { waitFor } from '../helpers/wait.js';

const APP = 'nest';
const OTHER = 'nest-other';
const HOST = `${APP}.paas.test`;
let paas: PaasServer;
let dir: string;
let own: string;
let dev: { priv: string; pub: string };
/** a file on the host, outside every container: seen through /x only if /x is the host's / */
const marker = path.join('/tmp', `paas-nest-marker-${process.pid}`);
const srvRoot = path.join('/srv', `paas-test-nest-${process.pid}`);

// web: httpd in the background, then the shell exits 3 (a crash) once /data/crash appears
const crashingApp = busyboxApp('nest-v2', {
  Dockerfile: `FROM paas-test/busybox:1\nCOPY www /www\nCMD httpd -p $PORT -h /www; while [ ! -e /data/crash ]; do sleep 0.2; done; rm -f /data/crash; exit 3\n`,
  'app.json': healthAppJson(),
});

before(async () => {
  ({ paas, dir } = await serverWithApp(APP, 'nest-v1'));
  own = path.join(fs.realpathSync(paas.dataDir), 'storage', APP);
  dev = await paas.addDeveloper('dev', [APP]);
  fs.writeFileSync(marker, 'host-only secret\n');
  fs.mkdirSync(path.join(srvRoot, 'shared', 'inner'), { recursive: true });
});
after(async () => {
  await paas?.destroy();
  fs.rmSync(marker, { force: true });
  fs.rmSync(srvRoot, { recursive: true, force: true });
});

const asDev = (cmd: string) => paas.ssh(cmd, { key: dev.priv });

async function refused(r: { exitCode: number; stdout: string; stderr: string }, message: string): Promise<void> {
  assert.deepEqual(
    { exitCode: r.exitCode, stdout: r.stdout, stderr: r.stderr },
    { exitCode: 1, stdout: '', stderr: `error: ${message}\n` },
  );
}

async function mounts(app: string): Promise<unknown> {
  const r = await paas.ssh(`storage:list ${app} --json`);
  assert.equal(r.exitCode, 0, r.stderr);
  return JSON.parse(r.stdout);
}

/** The running web containers (the paused ones of a warm previous release left out). */
async function webContainers(): Promise<Dockerode.ContainerInfo[]> {
  const list = await dockerClient().listContainers({ filters: { label: [`paas.app=${APP}`, 'paas.process=web', runFilter(paas.labels)] } });
  return list.filter((c) => c.State !== 'paused');
}

test('a developer cannot nest a mount in its writable one, in either order', async () => {
  assert.equal((await asDev(`storage:mount ${APP} data:/data`)).exitCode, 0);
  await refused(
    await asDev(`storage:mount ${APP} data/x:/x`),
    `refusing to mount data/x: it is inside ${own}/data, which its own mount at /data can write: a container could replace it with a symlink; nothing was changed`,
  );
  assert.equal((await asDev(`storage:mount ${APP} logs/sub:/sub`)).exitCode, 0);
  await refused(
    await asDev(`storage:mount ${APP} logs:/logs`),
    `refusing to mount logs: it holds ${own}/logs/sub (its own mount at /sub), so this mount could replace that dir with a symlink; nothing was changed`,
  );
  assert.deepEqual(await mounts(APP), [
    { host: `${own}/data`, container: '/data', readOnly: false },
    { host: `${own}/logs/sub`, container: '/sub', readOnly: false },
  ]);
  assert.equal((await asDev(`storage:unmount ${APP} /sub`)).exitCode, 0);
});

test('the drill: a link swapped in and a crash do not give the restarted container the host', async () => {
  await commitFiles(dir, crashingApp);
  const pushed = await push(paas, dir, APP);
  assert.equal(pushed.exitCode, 0, pushed.output);
  // whatever of the two mounts paas accepted is live now; the second must not be
  await asDev(`storage:mount ${APP} data/x:/x`);
  assert.equal((await asDev(`ps:restart ${APP}`)).exitCode, 0);
  const [before] = await webContainers();
  assert.ok(before, 'a web container runs');
  const info = await dockerClient().getContainer(before.Id).inspect();
  const startedAt = info.State.StartedAt;

  // from inside the app: /data/x becomes a link to /, then the web process crashes
  const attack = await asDev(`run ${APP} sh -c 'rm -rf /data/x; ln -s / /data/x && touch /data/crash'`);
  assert.equal(attack.exitCode, 0, attack.stderr);

  // the app is restarted (by Docker's policy or by paas's convergence), not left down
  await waitFor(
    'the crashed web container to run again',
    async () => {
      const now = await webContainers();
      if (now.length === 0) return false;
      const c = await dockerClient().getContainer(now[0]!.Id).inspect();
      return c.State.Running && c.State.StartedAt !== startedAt;
    },
    60_000,
    200,
  );
  await waitFor('the app to serve again', async () => (await viaProxy(paas, HOST, '/')).status === 200, 30_000, 200);

  for (const c of await webContainers()) {
    const inspected = await dockerClient().getContainer(c.Id).inspect();
    for (const m of inspected.Mounts) assert.ok(m.Source.startsWith(`${own}/`), `${m.Source} at ${m.Destination} is the app's own storage`);
    const exec = await dockerClient()
      .getContainer(c.Id)
      .exec({ Cmd: ['sh', '-c', `cat /x${marker} 2>/dev/null; cat /data/x${marker} 2>/dev/null; true`], AttachStdout: true });
    const stream = await exec.start({});
    const out = await new Promise<string>((resolve) => {
      let text = '';
      stream.on('data', (d: Buffer) => (text += d.toString('latin1')));
      stream.on('end', () => resolve(text));
    });
    assert.doesNotMatch(out, /host-only secret/, 'the container does not see the host');
  }
});

test('across apps: no app may mount a dir inside another app’s writable mount; a read-only outer one is fine', async () => {
  assert.equal((await paas.ssh(`apps:create ${OTHER}`)).exitCode, 0);
  assert.equal((await paas.ssh(`storage:allow-root ${srvRoot}`)).exitCode, 0);
  assert.equal((await paas.ssh(`storage:mount ${APP} ${srvRoot}/shared:/shared`)).exitCode, 0);
  await refused(
    await paas.ssh(`storage:mount ${OTHER} ${srvRoot}/shared/inner:/inner:ro`),
    `refusing to mount ${srvRoot}/shared/inner: it is inside ${srvRoot}/shared, which app '${APP}''s mount at /shared can write: a container could replace it with a symlink; nothing was changed`,
  );
  assert.deepEqual(await mounts(OTHER), []);
  assert.equal((await paas.ssh(`storage:unmount ${APP} /shared`)).exitCode, 0);
  assert.equal((await paas.ssh(`storage:mount ${APP} ${srvRoot}/shared:/shared:ro`)).exitCode, 0);
  const r = await paas.ssh(`storage:mount ${OTHER} ${srvRoot}/shared/inner:/inner`);
  assert.equal(r.exitCode, 0, r.stderr);
  assert.equal((await paas.ssh(`storage:unmount ${OTHER} /inner`)).exitCode, 0);
  assert.equal((await paas.ssh(`storage:unmount ${APP} /shared`)).exitCode, 0);
});

test('a nested pair stored before this rule is refused at the next rollout; the running containers keep serving', async () => {
  const state = State.open(path.join(paas.dataDir, 'paas.db'));
  try {
    state.appSettings.set(APP, 'mounts', JSON.stringify([`${own}/data:/data`, `${own}/data/y:/y`]));
  } finally {
    state.close();
  }
  fs.mkdirSync(path.join(own, 'data', 'y'), { recursive: true });
  const before = (await webContainers()).map((c) => c.Id);
  const r = await paas.ssh(`ps:restart ${APP}`);
  assert.equal(r.exitCode, 1, r.stdout);
  assert.equal(
    r.stderr,
    `error: refusing to mount ${own}/data/y at /y in ${APP}: it is inside ${own}/data, which its own mount at /data can write: a container could replace it with a symlink; no container was started and the running ones keep serving (storage:unmount ${APP} /y)\n`,
  );
  assert.deepEqual(
    (await webContainers()).map((c) => c.Id),
    before,
  );
  assert.equal((await viaProxy(paas, HOST, '/')).status, 200);
});
