// Issue 21 hole 5, driven as the attacker would: a developer key pushes Dockerfiles whose RUN steps
// are a fork bomb, a memory hog and a step that never ends. Each is bounded (the bomb stops at 1500
// processes that exit after a few seconds, the hog allocates 300 MiB once), so the machine is never
// at risk even without limits; with them, each push fails with one line naming the limit, the
// build's cgroup and step containers are gone afterwards, and another app keeps serving through
// the proxy the whole time.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { execa } from 'execa';
import { commitFiles, healthAppJson, viaProxy } from '../helpers/app-repo.js';
import { BUSYBOX_IMAGE } from '../helpers/base-images.js';
import { serverWithApp } from '../helpers/deployed-app.js';
import { type PaasServer, sshOptions } from '../helpers/paas-server.js';

let paas: PaasServer;
let dev: { priv: string; pub: string };
const APP = 'bomber';

/** Requests to the live app through the proxy, in a loop, until stopped; counts what did not answer 200 `live-v1`. */
let load: { stop(): Promise<{ ok: number; failed: string[] }> };

before(async () => {
  ({ paas } = await serverWithApp('live', 'live-v1'));
  assert.equal((await paas.ssh(`apps:create ${APP}`)).exitCode, 0);
  dev = await paas.addDeveloper('dev', [APP]);
  load = startLoad();
});

after(async () => {
  await load?.stop();
  await paas?.destroy();
});

function startLoad() {
  let running = true;
  let ok = 0;
  const failed: string[] = [];
  const loop = (async () => {
    while (running) {
      try {
        const r = await viaProxy(paas, 'live.paas.test', '/', 5000);
        if (r.status === 200 && r.body === 'live-v1\n') ok++;
        else failed.push(`${r.status} ${r.body.slice(0, 80)}`);
      } catch (e) {
        failed.push(String(e));
      }
      await new Promise((r) => setTimeout(r, 20));
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
      return { ok, failed };
    },
  };
}

const workDir = () => path.join(paas.dataDir, 'work', APP);
const asDev = (cmd: string) => paas.ssh(cmd, { key: dev.priv });

/** `git push` of the app's work tree with the developer key over real OpenSSH. */
async function pushAsDev(): Promise<{ exitCode: number; output: string; ms: number }> {
  const t0 = Date.now();
  const r = await execa('git', ['-C', workDir(), 'push', paas.remoteUrl(APP), 'main'], {
    env: { GIT_SSH_COMMAND: `ssh ${sshOptions(dev.priv, paas.ports.ssh).join(' ')}` },
    reject: false,
    all: true,
    timeout: 120_000,
  });
  return { exitCode: r.exitCode ?? 1, output: String(r.all), ms: Date.now() - t0 };
}

const dockerfile = (run: string) =>
  `FROM ${BUSYBOX_IMAGE}\nRUN ${run}\nRUN mkdir -p /www && echo bad > /www/index.html\nCMD exec httpd -f -p $PORT -h /www\n`;

/** The build cgroups on this host (v1 layout: one dir per build under the pids controller). */
const buildCgroups = () =>
  fs.existsSync('/sys/fs/cgroup/pids') ? fs.readdirSync('/sys/fs/cgroup/pids').filter((d) => d.startsWith('paas-build-')) : [];

/** The push failed with the one limit line, nothing of it went live, and its cgroup is gone. */
async function assertRefused(r: { exitCode: number; output: string }, line: RegExp, cgroupsBefore: string[]): Promise<void> {
  assert.notEqual(r.exitCode, 0, r.output);
  const reasons = r.output.split('\n').filter((l) => /build failed/.test(l));
  assert.equal(reasons.length, 1, r.output);
  assert.match(reasons[0]!, line, r.output);
  assert.match(r.output, /the push is rejected/);
  const releases = JSON.parse((await asDev(`releases ${APP} --json`)).stdout) as { status: string }[];
  assert.ok(
    releases.every((rel) => rel.status !== 'live' && rel.status !== 'deploying'),
    JSON.stringify(releases),
  );
  const left = buildCgroups().filter((d) => !cgroupsBefore.includes(d));
  assert.deepEqual(left, [], 'the build cgroup was removed');
}

test('a fork bomb in a RUN step is stopped at the process limit: the push fails with one line', async () => {
  const before = buildCgroups();
  // forks until it has 1500 children (or a fork fails), each gone after 5 s: without a pids limit the step succeeds
  await commitFiles(workDir(), {
    Dockerfile: dockerfile('i=0; while [ $i -lt 1500 ]; do sleep 5 & i=$((i+1)); done; echo "started $i processes"; wait'),
    'app.json': healthAppJson(),
  });
  const r = await pushAsDev();
  await assertRefused(r, /^remote: .*build failed: the build hit its process limit \(1024\)\s*$/, before);
  assert.doesNotMatch(r.output, /started 1500 processes/);
});

test('a memory hog in a RUN step is stopped at the app memory limit: the push fails with one line', async () => {
  const set = await asDev(`resource:limit ${APP} memory=64m`);
  assert.equal(set.exitCode, 0, set.stderr);
  const before = buildCgroups();
  // one 300 MiB buffer, filled: without a memory limit dd copies it and the step succeeds
  await commitFiles(workDir(), { Dockerfile: dockerfile('dd if=/dev/zero of=/dev/null bs=300M count=1') });
  const r = await pushAsDev();
  await assertRefused(r, /^remote: .*build failed: the build hit its memory limit \(64m, from resource:limit\)\s*$/, before);
});

test('a step that runs past the build time limit is stopped, its container removed; only an admin sets the limit', async () => {
  const denied = await asDev('builder:set --global build-timeout 1h');
  assert.equal(denied.exitCode, 1);
  assert.equal(denied.stderr, "error: 'builder:set' needs an admin key\n");
  const set = await paas.ssh('builder:set --global build-timeout 4s');
  assert.equal(set.exitCode, 0, set.stderr);
  assert.equal(set.stdout, 'Builds on this host: build-timeout 4s\n');
  const before = buildCgroups();
  const marker = `sleep ${300 + Math.floor(Math.random() * 100)}`;
  await commitFiles(workDir(), { Dockerfile: dockerfile(marker) });
  const r = await pushAsDev();
  await assertRefused(
    r,
    /^remote: .*build failed: the build ran past its time limit \(4s; builder:set --global build-timeout\)\s*$/,
    before,
  );
  assert.ok(r.ms < 30_000, `the push ended soon after the limit (${r.ms} ms)`);
  const steps = await execa('docker', ['ps', '-a', '--no-trunc', '--format', '{{.Command}}']);
  assert.doesNotMatch(steps.stdout, new RegExp(marker), 'the step container is gone');
  assert.equal((await paas.ssh('builder:set --global build-timeout 30m')).exitCode, 0);
});

test('the live app kept serving through the proxy while the builds were stopped', async () => {
  const { ok, failed } = await load.stop();
  assert.deepEqual(failed, []);
  assert.ok(ok > 20, `requests answered: ${ok}`);
});
