// DRILL: restart dockerd under paas: apps come back and are routed again without a command.
// It stops the Docker engine of the whole machine for a few seconds (every other Docker user is
// disrupted), so test/run-tests.mjs runs this file last, in its own `node --test` step, after
// every other test has finished. PAAS_DOCKERD_DRILL=0 skips it on a shared machine.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { execa } from 'execa';
import { viaProxy } from '../helpers/app-repo.js';
import { serverWithApp } from '../helpers/deployed-app.js';
import { dockerClient, runFilter } from '../helpers/docker.js';
import type { PaasServer } from '../helpers/paas-server.js';
import { waitFor } from '../helpers/wait.js';

/** Containers of `app` made by this server (any state), with their release. */
async function containersOf(paas: PaasServer, app: string): Promise<Array<{ release: number; state: string }>> {
  const list = await dockerClient().listContainers({ all: true, filters: { label: [`paas.app=${app}`, runFilter(paas.labels)] } });
  return list.map((c) => ({ release: Number(c.Labels['paas.release']), state: c.State }));
}

const DOCKERD_DRILL = process.env.PAAS_DOCKERD_DRILL !== '0';

function dockerdPid(): number | null {
  try {
    const pid = Number(fs.readFileSync('/var/run/docker.pid', 'utf8').trim());
    process.kill(pid, 0);
    return pid;
  } catch {
    return null;
  }
}

async function dockerAnswers(): Promise<boolean> {
  return (await execa('docker', ['info', '--format', '{{.ID}}'], { reject: false, timeout: 5000 })).exitCode === 0;
}

/** Starts dockerd exactly as this machine runs it (detached, appending to /var/log/dockerd.log) and waits for `docker info`. */
async function startDockerd(): Promise<void> {
  if (!dockerdPid()) spawn('sh', ['-c', 'dockerd >> /var/log/dockerd.log 2>&1 &'], { detached: true, stdio: 'ignore' }).unref();
  await waitFor('docker info to answer', () => dockerAnswers(), 60_000, 500);
}

describe('DRILL: restart dockerd under paas (stops the Docker engine of this machine)', {
  skip: DOCKERD_DRILL ? false : 'PAAS_DOCKERD_DRILL=0',
}, () => {
  const APP = 'drill-dockerd';
  const HOST = `${APP}.paas.test`;
  let paas: PaasServer;

  before(async () => {
    ({ paas } = await serverWithApp(APP, 'still here'));
    assert.equal((await paas.ssh(`apps:scale ${APP} web=2`)).exitCode, 0);
  });
  after(async () => {
    // whatever happened, the engine runs again before anything else is cleaned up
    await startDockerd().catch(() => undefined);
    await paas?.destroy();
  });

  test('apps answer through the proxy again within 60 s of dockerd coming back, without a command', async () => {
    assert.equal((await viaProxy(paas, HOST)).body, 'still here\n');
    const pid = dockerdPid();
    assert.ok(pid, 'dockerd runs and wrote /var/run/docker.pid');
    process.kill(pid, 'SIGTERM'); // what `pkill -x dockerd` does, by pid
    await waitFor(
      'dockerd to exit',
      async () => {
        try {
          process.kill(pid, 0);
          return false;
        } catch {
          return true;
        }
      },
      90_000,
      250,
    );
    const down = await viaProxy(paas, HOST, '/', 3000).catch((e) => ({ status: 0, body: String(e) }));
    assert.notEqual(down.body, 'still here\n', 'the app is really down while dockerd is stopped');
    await startDockerd();
    const back = Date.now();
    await waitFor(
      'the app to answer through the proxy',
      async () => {
        const r = await viaProxy(paas, HOST, '/', 2000);
        return r.status === 200 && r.body === 'still here\n';
      },
      60_000,
      500,
    );
    const seconds = (Date.now() - back) / 1000;
    // both replicas come back and are routed (the second may pass its health check a moment after the first)
    const names = new Set<string>();
    await waitFor(
      'both replicas to be routed',
      async () => {
        const r = await viaProxy(paas, HOST, '/cgi-bin/env', 2000);
        if (r.status === 200) names.add(/HOSTNAME=(\S+)/.exec(r.body)?.[1] ?? '');
        return names.size >= 2;
      },
      30_000,
      100,
    ).catch(() => {});
    assert.equal(names.size, 2, `both replicas routed: ${[...names].join(', ')}`);
    const cs = await containersOf(paas, APP);
    assert.equal(cs.filter((c) => c.state === 'running').length, 2, JSON.stringify(cs));
    console.log(`# dockerd drill: app answered ${seconds.toFixed(1)} s after docker info answered again`);
  });
});
