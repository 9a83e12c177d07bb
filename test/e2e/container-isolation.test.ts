import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import type Dockerode from 'dockerode';
import { execa } from 'execa';
import { busyboxApp, commitFiles, healthAppJson, push, viaProxy } from '../helpers/app-repo.js';
import { serverWithApp } from '../helpers/deployed-app.js';
import { dockerClient, runFilter } from '../helpers/docker.js';
import { makeKey, type PaasServer } from '../helpers/paas-server.js';

// Issue 12, containers: every app container is hardened (no-new-privileges, dropped capabilities,
// a pids limit) unless an admin opts out, gets the global default memory limit, and sits on its
// own Docker network `paas-<app>`, so app A cannot reach app B while the proxy serves both.

const A = 'isoa';
const B = 'isob';
const DROPPED = ['AUDIT_WRITE', 'MKNOD', 'NET_RAW', 'SETFCAP', 'SYS_CHROOT'];
let paas: PaasServer;
let dirA: string;

before(async () => {
  ({ paas, dir: dirA } = await serverWithApp(A, 'alpha'));
  const dirB = path.join(paas.dataDir, 'work', B);
  await commitFiles(dirB, busyboxApp('bravo', { 'app.json': healthAppJson() }));
  const r = await push(paas, dirB, B);
  assert.equal(r.exitCode, 0, r.output);
});
after(async () => {
  await paas?.destroy();
});

/** The app's running web container (this server's only; a warm previous release's paused one left out), inspected. */
async function web(app: string): Promise<Dockerode.ContainerInspectInfo> {
  const docker = dockerClient();
  const list = (
    await docker.listContainers({ filters: { label: [`paas.app=${app}`, 'paas.process=web', runFilter(paas.labels)] } })
  ).filter((c) => c.State !== 'paused');
  assert.equal(list.length, 1, `one web container of ${app}`);
  return docker.getContainer(list[0]!.Id).inspect();
}

const inside = (id: string, script: string) => execa('docker', ['exec', id, 'sh', '-c', script], { reject: false });

test('an app container is hardened: no-new-privileges, dropped capabilities, pids limit 1024, Docker seccomp kept; ping fails', async () => {
  const c = await web(A);
  assert.deepEqual(c.HostConfig.SecurityOpt, ['no-new-privileges:true']);
  assert.deepEqual([...(c.HostConfig.CapDrop ?? [])].sort(), DROPPED);
  assert.equal(c.HostConfig.PidsLimit, 1024);
  assert.equal(c.HostConfig.Privileged, false);
  assert.equal(c.HostConfig.CapAdd, null);
  const status = await inside(c.Id, 'grep -E "^(NoNewPrivs|Seccomp):" /proc/self/status');
  assert.equal(status.stdout, 'NoNewPrivs:\t1\nSeccomp:\t2', 'no_new_privs set, seccomp filter mode on');
  const ping = await inside(c.Id, 'ping -c1 127.0.0.1');
  assert.equal(ping.exitCode, 1);
  assert.match(ping.stderr, /permission denied/);
  const report = JSON.parse((await paas.ssh(`resource:report ${A} --json`)).stdout);
  assert.deepEqual(report, { app: A, resources: {}, hardening: true, defaultMemoryBytes: null });
});

test("each app has its own network: A cannot connect to B's container IP nor resolve its name; the proxy serves both", async () => {
  const a = await web(A);
  const b = await web(B);
  assert.deepEqual(Object.keys(a.NetworkSettings.Networks), [`paas-${A}`]);
  assert.deepEqual(Object.keys(b.NetworkSettings.Networks), [`paas-${B}`]);
  const ipA = a.NetworkSettings.Networks[`paas-${A}`]!.IPAddress;
  const ipB = b.NetworkSettings.Networks[`paas-${B}`]!.IPAddress;
  const http = (ip: string) => `printf 'GET / HTTP/1.0\\r\\n\\r\\n' | nc -w 3 ${ip} 5000`;

  const own = await inside(a.Id, http(ipA));
  assert.equal(own.exitCode, 0, own.stderr);
  assert.match(own.stdout, /\r\n\r\nalpha$/, 'the probe works on the own network');
  const other = await inside(a.Id, http(ipB));
  assert.equal(other.exitCode, 1);
  assert.equal(other.stdout, '');
  assert.match(other.stderr, /timed out/);

  const nameA = a.Name.slice(1);
  const nameB = b.Name.slice(1);
  assert.equal((await inside(a.Id, `nslookup ${nameA}`)).exitCode, 0, 'the own name resolves');
  for (const name of [nameB, `${B}.web`]) {
    const r = await inside(a.Id, `nslookup ${name}`);
    assert.equal(r.exitCode, 1, r.stdout);
    assert.match(r.stdout + r.stderr, /NXDOMAIN/);
  }

  assert.deepEqual(await bodyOf(A), { status: 200, body: 'alpha\n' });
  assert.deepEqual(await bodyOf(B), { status: 200, body: 'bravo\n' });
});

async function bodyOf(app: string): Promise<{ status: number; body: string }> {
  const r = await viaProxy(paas, `${app}.paas.test`);
  return { status: r.status, body: r.body };
}

test('a one-off run joins the app network and is hardened too', async () => {
  const net = await dockerClient().getNetwork(`paas-${A}`).inspect();
  const subnet = net.IPAM?.Config?.[0]?.Subnet as string;
  const r = await paas.ssh(`run ${A} sh -c "ip -o -4 addr show eth0; grep NoNewPrivs: /proc/self/status; ping -c1 127.0.0.1"`);
  assert.equal(r.exitCode, 1, 'ping fails without NET_RAW');
  const ip = /inet (\d+\.\d+\.\d+\.\d+)\//.exec(r.stdout)?.[1] ?? '';
  assert.equal(inSubnet(ip, subnet), true, `${ip} in ${subnet}`);
  assert.match(r.stdout, /NoNewPrivs:\t1\n/);
  assert.match(r.stdout + r.stderr, /permission denied/);
});

function inSubnet(ip: string, cidr: string): boolean {
  const num = (a: string) => a.split('.').reduce((n, o) => n * 256 + Number(o), 0);
  const [base, bits] = cidr.split('/') as [string, string];
  const size = 2 ** (32 - Number(bits));
  return /^\d+\.\d+\.\d+\.\d+$/.test(ip) && Math.floor(num(ip) / size) === Math.floor(num(base) / size);
}

test('the global default memory limit (admin only) applies to processes without their own limit', async () => {
  const dev = await makeKey(paas.keyDir, 'dev');
  const added = await paas.admin(['ssh-keys:add', 'dev', '--role', 'developer', '--apps', A], fs.readFileSync(dev.pub, 'utf8'));
  assert.equal(added.exitCode, 0, String(added.stderr));
  const refused = await paas.ssh('resource:set-global memory 48m', { key: dev.priv });
  assert.equal(refused.exitCode, 1);
  assert.equal(refused.stderr, "error: 'resource:set-global' needs an admin key\n");

  let r = await paas.ssh('resource:set-global memory 48m');
  assert.equal(r.exitCode, 0, r.stderr);
  assert.equal(r.stdout, "Global default memory: 48m\nApplied at each app's next rollout, to processes without their own limit\n");
  assert.equal((await paas.ssh('resource:set-global memory 2m')).exitCode, 2);
  assert.equal((await paas.ssh(`ps:restart ${A}`)).exitCode, 0);
  assert.equal((await web(A)).HostConfig.Memory, 48 * 1024 ** 2);
  assert.match((await paas.ssh(`resource:report ${A}`)).stdout, /^global default memory: 48m$/m);

  r = await paas.ssh(`resource:limit ${A} memory=64m`);
  assert.equal(r.exitCode, 0, r.stderr);
  assert.equal((await paas.ssh(`ps:restart ${A}`)).exitCode, 0);
  assert.equal((await web(A)).HostConfig.Memory, 64 * 1024 ** 2, "the app's own limit wins");
  assert.equal((await paas.ssh(`resource:limit ${A} memory=none`)).exitCode, 0);
  assert.equal((await paas.ssh('resource:set-global memory none')).exitCode, 0);
  assert.equal(JSON.parse((await paas.ssh(`resource:report ${A} --json`)).stdout).defaultMemoryBytes, null);
});

test('resource:set hardening off (admin only) gives a container without it after ps:restart', async () => {
  const refused = await paas.ssh(`resource:set ${A} hardening off`, { key: `${paas.keyDir}/dev` });
  assert.equal(refused.exitCode, 1);
  assert.equal(refused.stderr, "error: 'resource:set hardening' needs an admin key\n");
  const bad = await paas.ssh(`resource:set ${A} hardening maybe`);
  assert.equal(bad.exitCode, 2);
  assert.equal(bad.stderr, "error: hardening must be on or off, got 'maybe'; nothing was changed\n");
  assert.equal((await web(A)).HostConfig.PidsLimit, 1024, 'refusals changed nothing');

  const r = await paas.ssh(`resource:set ${A} hardening off`);
  assert.equal(r.exitCode, 0, r.stderr);
  assert.equal(r.stdout, `Hardening of ${A}: off\nApplied at the next rollout (ps:restart ${A}, a deploy, a config change or a scale)\n`);
  assert.equal((await paas.ssh(`ps:restart ${A}`)).exitCode, 0);
  const c = await web(A);
  assert.equal(c.HostConfig.SecurityOpt, null);
  assert.equal(c.HostConfig.CapDrop, null);
  assert.equal(c.HostConfig.PidsLimit, null);
  const ping = await inside(c.Id, 'ping -c1 127.0.0.1');
  assert.equal(ping.exitCode, 0, ping.stderr);
  assert.equal(JSON.parse((await paas.ssh(`resource:report ${A} --json`)).stdout).hardening, false);

  assert.equal((await paas.ssh(`resource:set ${A} hardening on`)).exitCode, 0);
  assert.equal((await paas.ssh(`ps:restart ${A}`)).exitCode, 0);
  assert.equal((await web(A)).HostConfig.PidsLimit, 1024);
});

test('app.json formation with a bad process name or a quantity above max-replicas fails the push before building', async () => {
  assert.equal((await paas.ssh(`ps:set ${A} max-replicas 2`)).exitCode, 0);
  const cases: Array<[Record<string, unknown>, string]> = [
    [
      { 'bad name': { quantity: 1 } },
      "app.json: formation has an invalid process type 'bad name' (letters, digits, '_' and '-', as in apps:scale)",
    ],
    [{ web: { quantity: 3 } }, "app.json: formation.web.quantity 3 is more than this app's max replicas 2 (ps:set max-replicas)"],
  ];
  for (const [formation, line] of cases) {
    await commitFiles(dirA, { 'app.json': JSON.stringify({ formation }) });
    const r = await push(paas, dirA, A);
    assert.equal(r.exitCode, 1, r.output);
    assert.ok(r.output.includes(line), r.output);
    assert.doesNotMatch(r.output, /Building paas\//);
  }
  assert.deepEqual(await bodyOf(A), { status: 200, body: 'alpha\n' }, 'the live release keeps serving');
});

test("apps:destroy removes the app's network", async () => {
  const r = await paas.ssh(`apps:destroy ${B} --force`);
  assert.equal(r.exitCode, 0, r.stderr);
  const nets = await dockerClient().listNetworks({ filters: { name: [`paas-${B}`] } });
  assert.deepEqual(
    nets.filter((n) => n.Name === `paas-${B}`),
    [],
  );
});
