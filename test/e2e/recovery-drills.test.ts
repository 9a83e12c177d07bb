import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { execa } from 'execa';
import { busyboxApp, commitFiles, viaProxy } from '../helpers/app-repo.js';
import { BUSYBOX_IMAGE, ensureBusyboxImage } from '../helpers/base-images.js';
import { dockerClient, requireDocker, runFilter } from '../helpers/docker.js';
import { PaasServer } from '../helpers/paas-server.js';
import { serverWithApp } from '../helpers/deployed-app.js';
import { waitFor } from '../helpers/wait.js';

// Recovery drills against a real `paas server` and Docker:
//  1. kill -9 the control plane mid-deploy: on restart the deploy is marked failed, the previous
//     release serves, no container of the interrupted release remains.
//  2. docker events: a killed replica is replaced and a stray container removed, without a command.
// The dockerd-restart drill lives in test/e2e-last/dockerd-restart-drill.test.ts: it stops the
// machine's only Docker engine, so test/run-tests.mjs runs it after everything else, on its own.

/** `git push` in the background, with its output collected as it streams. */
function pushInBackground(paas: PaasServer, dir: string, app: string) {
  const child = execa('git', ['-C', dir, 'push', paas.remoteUrl(app), 'main'], {
    env: paas.gitEnv(),
    reject: false,
    all: true,
    timeout: 300_000,
  });
  let out = '';
  child.all?.on('data', (d: Buffer) => (out += d.toString()));
  return { child, output: () => out };
}

async function pushOk(paas: PaasServer, dir: string, app: string): Promise<void> {
  const p = pushInBackground(paas, dir, app);
  const r = await p.child;
  assert.equal(r.exitCode, 0, p.output());
}

/** Containers of `app` made by this server (any state), with their release. */
async function containersOf(paas: PaasServer, app: string): Promise<Array<{ release: number; state: string }>> {
  const list = await dockerClient().listContainers({ all: true, filters: { label: [`paas.app=${app}`, runFilter(paas.labels)] } });
  return list.map((c) => ({ release: Number(c.Labels['paas.release']), state: c.State }));
}

const releases = async (paas: PaasServer, app: string) =>
  JSON.parse((await paas.ssh(`releases ${app} --json`)).stdout) as Array<{ version: number; status: string }>;

describe('drill: kill -9 the control plane mid-deploy', () => {
  let paas: PaasServer;

  before(async () => {
    await requireDocker();
    await ensureBusyboxImage();
    paas = await new PaasServer().start();
  });
  after(async () => {
    await paas?.destroy();
  });

  /** Each drill deploys its own app: v1 serving `v1 serves`. */
  async function appAtV1(app: string): Promise<string> {
    const dir = path.join(paas.dataDir, 'work', app);
    await commitFiles(dir, busyboxApp('v1 serves'));
    await pushOk(paas, dir, app);
    assert.equal((await viaProxy(paas, `${app}.paas.test`)).body, 'v1 serves\n');
    return dir;
  }

  /**
   * kill -9 once `stage` shows in the push output, then start a new control plane on the same data
   * dir. `serving`: what the proxy serves then, and keeps serving without a control plane (v1,
   * unless traffic had already switched to v2 in its stability window).
   */
  async function killDuring(
    app: string,
    dir: string,
    stage: RegExp,
    check?: () => Promise<void>,
    serving = 'v1 serves\n',
  ): Promise<string> {
    const host = `${app}.paas.test`;
    const p = pushInBackground(paas, dir, app);
    await waitFor(`'${stage.source}' in the push output`, async () => stage.test(p.output()), 120_000, 50);
    await check?.();
    const servedDuring = await viaProxy(paas, host);
    await paas.kill9();
    const r = await p.child;
    // the SSH server dies with the control plane: git loses the connection (exit 128)
    assert.equal(r.exitCode, 128, `the interrupted push must be rejected:\n${p.output()}`);
    assert.match(p.output(), /the remote end hung up unexpectedly/);
    assert.equal(servedDuring.body, serving);
    assert.equal((await viaProxy(paas, host)).body, serving, 'the proxy keeps serving with no control plane');
    await paas.spawnServer();
    return p.output();
  }

  test('during the build of v2: v2 is marked failed, v1 serves, no v2 container', async () => {
    const APP = 'drill-build';
    const dir = await appAtV1(APP);
    await commitFiles(dir, {
      Dockerfile: `FROM ${BUSYBOX_IMAGE}\nRUN sleep 20\nCOPY www /www\nCMD httpd -f -p $PORT -h /www\n`,
      'www/index.html': 'v2 must never serve\n',
    });
    await killDuring(APP, dir, /Building paas\/drill-build:v2/);
    const rs = await waitFor(
      'v2 marked failed',
      async () => {
        const x = await releases(paas, APP);
        return x.find((r) => r.version === 2)?.status === 'failed' && x;
      },
      30_000,
    );
    assert.deepEqual(
      rs.map((r) => [r.version, r.status]),
      [
        [2, 'failed'],
        [1, 'live'],
      ],
    );
    assert.equal((await viaProxy(paas, `${APP}.paas.test`)).body, 'v1 serves\n');
    assert.deepEqual(
      (await containersOf(paas, APP)).map((c) => c.release),
      [1],
    );
  });

  test('in the stability window of v2: its containers are removed on restart, v2 is failed, traffic is back on v1', async () => {
    const APP = 'drill-boot';
    const dir = await appAtV1(APP);
    // a long stability window keeps the deploy in the rollout, v1 warm and v2 running, when it dies
    assert.equal((await paas.ssh(`checks:set ${APP} path=none wait=60`)).exitCode, 0);
    await commitFiles(dir, {
      Dockerfile: `FROM ${BUSYBOX_IMAGE}\nCOPY www /www\nCMD httpd -f -p $PORT -h /www\n`,
      'www/index.html': 'v2 in its window\n',
    });
    // traffic is on v2 in its window (v1 warm); the restarted control plane finds the deploy
    // interrupted and sends traffic back to v1
    const window = /Watching 1 new container\(s\) for 60 s/;
    await killDuring(
      APP,
      dir,
      window,
      async () => {
        const cs = await containersOf(paas, APP);
        assert.deepEqual(
          cs.map((c) => [c.release, c.state]).sort(),
          [
            [1, 'running'],
            [2, 'running'],
          ],
          `v1 warm and v2 running when the control plane dies: ${JSON.stringify(cs)}`,
        );
      },
      'v2 in its window\n',
    );
    await waitFor('no v2 container left', async () => (await containersOf(paas, APP)).every((c) => c.release !== 2), 30_000);
    const rs = await releases(paas, APP);
    assert.deepEqual(
      rs.map((r) => [r.version, r.status]),
      [
        [2, 'failed'],
        [1, 'live'],
      ],
    );
    assert.equal((await viaProxy(paas, `${APP}.paas.test`)).body, 'v1 serves\n');
    assert.deepEqual(
      (await containersOf(paas, APP)).map((c) => [c.release, c.state]),
      [[1, 'running']],
    );
    const log = fs.readFileSync(path.join(paas.dataDir, 'server.log'), 'utf8');
    assert.match(log, /interrupted deploy marked failed/);
  });
});

describe('docker events converge an app without a command', () => {
  const APP = 'drill-events';
  const HOST = `${APP}.paas.test`;
  let paas: PaasServer;

  before(async () => {
    ({ paas } = await serverWithApp(APP, 'events'));
    // no restart policy: only the event watcher can bring a dead replica back
    assert.equal((await paas.ssh(`ps:set ${APP} restart-policy no`)).exitCode, 0);
    assert.equal((await paas.ssh(`apps:scale ${APP} web=2`)).exitCode, 0);
    assert.equal((await paas.ssh(`ps:restart ${APP}`)).exitCode, 0);
  });
  after(async () => {
    await paas?.destroy();
  });

  const hostnames = async () => {
    const names = new Set<string>();
    for (let i = 0; i < 20; i++) {
      const r = await viaProxy(paas, HOST, '/cgi-bin/env');
      if (r.status === 200) names.add(/HOSTNAME=(\S+)/.exec(r.body)?.[1] ?? '');
    }
    return names;
  };

  test('a killed replica (restart policy no) is replaced and routed; a stray container is removed', async () => {
    const docker = dockerClient();
    const list = await docker.listContainers({ filters: { label: [`paas.app=${APP}`, runFilter(paas.labels)] } });
    assert.equal(list.length, 2);
    const victim = list[0]!.Id;
    await docker.getContainer(victim).kill({ signal: 'SIGKILL' });
    const replaced = await waitFor(
      'a new replica replacing the killed one',
      async () => {
        const now = await docker.listContainers({ filters: { label: [`paas.app=${APP}`, runFilter(paas.labels)] } });
        return now.length === 2 && !now.some((c) => c.Id === victim) && now;
      },
      30_000,
    );
    const ids = new Set(replaced.map((c) => c.Id.slice(0, 12)));
    const names = await waitFor('both replicas routed', async () => ((await hostnames()).size === 2 ? hostnames() : null), 30_000, 500);
    for (const n of names) assert.ok(ids.has(n), `${n} is a live replica (${[...ids].join(', ')})`);
    // the dead one goes once the replacement's stability window has passed (the cutover keeps the
    // old set until then), so it is awaited, not expected at once
    await waitFor(
      'the dead one to be removed',
      async () =>
        (await docker.listContainers({ all: true, filters: { label: [`paas.app=${APP}`, runFilter(paas.labels)] } })).length === 2,
      15_000,
    );

    // a container that claims to belong to the app but is no replica of the live release
    const stray = await docker.createContainer({
      Image: BUSYBOX_IMAGE,
      Cmd: ['sleep', '300'],
      Labels: { ...paas.labels, 'paas.app': APP, 'paas.process': 'web', 'paas.release': '999', 'paas.replica': '1', 'paas.port': '5000' },
    });
    await stray.start();
    await waitFor(
      'the stray to be removed',
      async () => {
        try {
          await stray.inspect();
          return false;
        } catch {
          return true;
        }
      },
      30_000,
    );
    assert.equal((await viaProxy(paas, HOST)).body, 'events\n');
  });
});
