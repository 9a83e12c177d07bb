import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { after, before, test } from 'node:test';
import Dockerode from 'dockerode';
import { execa } from 'execa';
import { RegistryAccess } from '../../src/swarm/registry/registry-access.js';
import { RegistryFiles, type RegistryEndpoint } from '../../src/swarm/registry/registry-files.js';
import { probe } from '../../src/swarm/registry/registry-supervisor.js';
import { BUSYBOX_IMAGE, ensureBusyboxImage } from '../helpers/base-images.js';
import { makeKey, PaasServer } from '../helpers/paas-server.js';
import { waitFor } from '../helpers/wait.js';

// NEEDS TEST NODES: this file makes test hosts 1, 2 and 3 with test/helpers/test-node.sh (a copy of the shared tool)
// (PAAS_TEST_NODE_TOOL overrides the path; without it, or not as root, the file skips). Each node is
// a network namespace at 198.18.N.2 with its own dockerd and sshd. paas's own engine, the Swarm
// manager, is node 1's (DOCKER_HOST); nodes 2 and 3 join over real SSH (ssh2) with paas's key,
// which a second sshd on port 2201 of each node accepts (its own authorized_keys file, so the
// host's root keys are never touched). The registry listens on 198.18.1.1:5000, the host's side
// of node 1's link.

const TOOL = process.env.PAAS_TEST_NODE_TOOL ?? path.resolve(import.meta.dirname, '..', 'helpers', 'test-node.sh');
const NODES = [1, 2, 3];
const sock = (n: number) => `unix:///run/paasnode${n}/docker.sock`;
const engine = (n: number) => new Dockerode({ socketPath: `/run/paasnode${n}/docker.sock` });
const REGISTRY = '198.18.1.1:5000';
const FORWARD_RULE = ['DOCKER-USER', '-s', '198.18.0.0/22', '-d', '198.18.0.0/22', '-j', 'ACCEPT'];
const skip = !fs.existsSync(TOOL) || process.getuid?.() !== 0 ? 'needs root and the test-node tool' : false;

let paas: PaasServer;
let keysDir: string;
let addedRule = false;

const docker = (n: number, ...args: string[]) => execa('docker', ['-H', sock(n), ...args], { reject: false });
const inNode = (n: number, ...args: string[]) => execa('nsenter', [`--net=/var/run/netns/paasnode${n}`, ...args], { reject: false });
const swarmOf = async (n: number) => (await engine(n).info()).Swarm as { LocalNodeState: string; NodeID: string; Cluster?: { ID: string } };

/** A one-line failure: exit code, nothing on stdout, a single line on stderr matching `re`. */
function refused(r: { exitCode: number; stdout: string; stderr: string }, code: number, re: RegExp): void {
  assert.equal(r.exitCode, code, `${r.stdout}${r.stderr}`);
  assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
  assert.match(r.stderr, re);
}

const sshds: ChildProcess[] = [];

function canConnect(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect({ host, port }, () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

async function nodeDown(n: number): Promise<void> {
  if (fs.existsSync(`/run/paasnode${n}/docker.sock`)) await docker(n, 'swarm', 'leave', '--force');
  await execa(TOOL, ['down', String(n)], { reject: false });
}

before(async () => {
  if (skip) return;
  await ensureBusyboxImage();
  // sshd's privilege separation folder (the nodes' sshds share the host's filesystem)
  fs.mkdirSync('/run/sshd', { recursive: true, mode: 0o755 });
  for (const n of NODES) {
    await nodeDown(n);
    const up = await execa(TOOL, ['up', String(n)], { reject: false });
    assert.equal(up.exitCode, 0, up.stderr);
    // a data root kept from an earlier run may still hold a Swarm
    if ((await swarmOf(n)).LocalNodeState !== 'inactive') await docker(n, 'swarm', 'leave', '--force');
  }
  if ((await execa('iptables', ['-C', ...FORWARD_RULE], { reject: false })).exitCode !== 0) {
    await execa('iptables', ['-I', ...FORWARD_RULE]);
    addedRule = true;
  }
  paas = await new PaasServer({ DOCKER_HOST: sock(1), PAAS_REGISTRY_LISTEN: REGISTRY }).start();
  keysDir = path.join(paas.dataDir, 'node-keys');
  fs.mkdirSync(keysDir, { mode: 0o700 });
  fs.writeFileSync(path.join(keysDir, 'authorized_keys'), '', { mode: 0o600 });
  for (const n of [2, 3]) {
    // sshds inside the node (its network and mount namespaces, entered through its dockerd): on
    // port 2201 trusting only the file above, on 2202 root's own authorized_keys (no paas key)
    const ns = Number(fs.readFileSync(`/run/paasnode${n}/docker.pid`, 'utf8').trim());
    for (const [port, keys] of [
      [2201, `${keysDir}/authorized_keys`],
      [2202, '.ssh/authorized_keys'],
    ] as const) {
      // -D: sshd's daemon() fails in the node's mount namespace (ENODEV), so it stays our child
      const child = spawn(
        'nsenter',
        [
          ...['-t', String(ns), '-n', '-m', '/usr/sbin/sshd', '-D'],
          ...['-o', `ListenAddress=198.18.${n}.2`, '-p', String(port), '-o', 'PidFile=none'],
          ...['-o', `AuthorizedKeysFile=${keys}`, '-o', 'StrictModes=no'],
        ],
        { stdio: 'ignore', detached: true },
      );
      child.unref();
      sshds.push(child);
      await waitFor(`sshd on 198.18.${n}.2:${port}`, () => canConnect(`198.18.${n}.2`, port), 10_000, 50);
    }
  }
});

after(async () => {
  if (skip) return;
  await paas?.destroy();
  for (const child of sshds) child.kill('SIGTERM');
  for (const n of NODES) await nodeDown(n);
  if (addedRule) await execa('iptables', ['-D', ...FORWARD_RULE], { reject: false });
  fs.rmSync(`/etc/docker/certs.d/${REGISTRY}`, { recursive: true, force: true });
});

test('nodes commands refuse before cluster:init, and cluster:init refuses a bad address', { skip }, async () => {
  refused(await paas.ssh('nodes:list'), 1, /no cluster yet: run cluster:init first/);
  refused(await paas.ssh('nodes:add n2 ssh://root@198.18.2.2:2201'), 1, /run cluster:init first/);
  refused(await paas.ssh('cluster:init --advertise-addr not-an-ip'), 2, /bad --advertise-addr 'not-an-ip'/);
  // the cluster is the host's: developer keys reach none of it
  const dev = await makeKey(paas.keyDir, 'dev');
  const added = await paas.ssh('ssh-keys:add dev --role developer --can-create', { input: fs.readFileSync(dev.pub, 'utf8') });
  assert.equal(added.exitCode, 0, added.stderr);
  refused(await paas.ssh('cluster:init', { key: dev.priv }), 1, /'cluster:init' needs an admin key/);
  refused(await paas.ssh('nodes:ssh-key', { key: dev.priv }), 1, /'nodes:ssh-key' needs an admin key/);
  assert.equal((await swarmOf(1)).LocalNodeState, 'inactive');
});

test('cluster:init makes node 1 a manager, starts the registry, and is idempotent', { skip }, async () => {
  const first = await paas.ssh('cluster:init --advertise-addr 198.18.1.2');
  assert.equal(first.exitCode, 0, first.stderr + paas.log());
  assert.match(first.stdout, /Swarm initialized/);
  assert.match(first.stdout, /registry:\s+198\.18\.1\.1:5000/);
  const swarm = await swarmOf(1);
  assert.equal(swarm.LocalNodeState, 'active');
  const again = await paas.ssh('cluster:init --advertise-addr 198.18.1.2');
  assert.equal(again.exitCode, 0, again.stderr);
  assert.match(again.stdout, /already initialized \(nothing changed\)/);
  assert.equal((await swarmOf(1)).Cluster?.ID, swarm.Cluster?.ID);
  refused(await paas.ssh('cluster:init --advertise-addr 198.18.1.9'), 1, /already advertises 198\.18\.1\.2/);
  // TLS with paas's CA and a login: anonymous is 401, paas's credentials 200
  const endpoint = new RegistryFiles(path.join(paas.dataDir, 'registry')).endpoint()!;
  assert.equal(await probe(endpoint), 401);
  assert.equal(await probe(endpoint, true), 200);
  assert.equal(fs.readFileSync(`/etc/docker/certs.d/${REGISTRY}/ca.crt`, 'utf8'), endpoint.caPem);
});

test("nodes:ssh-key prints paas's own key, kept private in the data dir", { skip }, async () => {
  const r = await paas.ssh('nodes:ssh-key');
  assert.equal(r.exitCode, 0, r.stderr);
  assert.match(r.stdout, /^ssh-ed25519 [A-Za-z0-9+/=]+ paas@cluster\n$/);
  assert.equal((await paas.ssh('nodes:ssh-key')).stdout, r.stdout);
  assert.equal(fs.statSync(path.join(paas.dataDir, 'keys', 'cluster_ed25519')).mode & 0o777, 0o600);
  fs.writeFileSync(path.join(keysDir, 'authorized_keys'), r.stdout);
});

test('nodes:add refuses bad input, an unreachable node and a wrong key, in one line each', { skip }, async () => {
  refused(await paas.ssh('nodes:add n2 http://root@198.18.2.2'), 2, /bad node address .*scheme must be ssh/);
  refused(await paas.ssh('nodes:add N_2 ssh://root@198.18.2.2:2201'), 2, /bad node name 'N_2'/);
  refused(await paas.ssh('nodes:add n2 ssh://root@198.18.2.2:2299'), 1, /cannot reach root@198\.18\.2\.2:2299 over SSH: ECONNREFUSED/);
  // no host at that address (nothing answers ARP on node 2's link): unreachable, named in one line
  refused(
    await paas.ssh('nodes:add n9 ssh://root@198.18.2.99'),
    1,
    /cannot reach root@198\.18\.2\.99:22 over SSH: (EHOSTUNREACH|Timed out while waiting for handshake)/,
  );
  // port 2202's sshd reads root's own authorized_keys, which does not hold paas's key
  refused(
    await paas.ssh('nodes:add n2 ssh://root@198.18.2.2:2202'),
    1,
    /root@198\.18\.2\.2:2202 refused paas's SSH key: add the line printed by 'paas nodes:ssh-key'/,
  );
  refused(await paas.ssh('nodes:remove ghost'), 1, /no node named 'ghost'/);
  assert.equal((await swarmOf(2)).LocalNodeState, 'inactive');
});

test('nodes:add joins node 2 over SSH after checking Docker and the ports', { skip }, async () => {
  const r = await paas.ssh('nodes:add n2 ssh://root@198.18.2.2:2201');
  assert.equal(r.exitCode, 0, r.stderr + paas.log());
  assert.match(r.stdout, /Docker \S+ runs on n2/);
  assert.match(r.stdout, /Ports open: 2377\/tcp, 7946\/tcp\+udp, 4789\/udp/);
  assert.match(r.stdout, /n2 joined the Swarm as a worker/);
  assert.equal((await swarmOf(2)).LocalNodeState, 'active');
  assert.equal(fs.existsSync(`/etc/docker/certs.d/${REGISTRY}/ca.crt`), true);
  refused(await paas.ssh('nodes:add n2 ssh://root@198.18.3.2:2201'), 1, /a node named n2 exists already/);
  refused(await paas.ssh('nodes:add other ssh://root@198.18.2.2:2201'), 1, /198\.18\.2\.2:2201 is already node n2/);
});

test('a host already in another Swarm is refused with nothing changed on it', { skip }, async () => {
  const init = await docker(3, 'swarm', 'init', '--advertise-addr', '198.18.3.2');
  assert.equal(init.exitCode, 0, init.stderr);
  const before = await swarmOf(3);
  refused(
    await paas.ssh('nodes:add n3 ssh://root@198.18.3.2:2201'),
    1,
    /n3 \(198\.18\.3\.2\) is already part of a Swarm \(as a manager\): nothing was changed on it; run 'docker swarm leave --force' there first/,
  );
  const now = await swarmOf(3);
  assert.equal(now.Cluster?.ID, before.Cluster?.ID);
  assert.equal((await engine(1).listNodes()).length, 2);
  assert.equal((await docker(3, 'swarm', 'leave', '--force')).exitCode, 0);
});

test('a closed port is named in one line, and the node does not join', { skip }, async () => {
  const block = async (op: '-I' | '-D', chain: string, proto: string, port: number) =>
    assert.equal((await inNode(3, 'iptables', op, chain, '-p', proto, '--dport', String(port), '-j', 'DROP')).exitCode, 0);
  await block('-I', 'INPUT', 'udp', 4789);
  try {
    refused(
      await paas.ssh('nodes:add n3 ssh://root@198.18.3.2:2201'),
      1,
      /port 4789\/udp \(overlay network traffic \(VXLAN\)\) is closed from the manager to n3 \(198\.18\.3\.2\)/,
    );
  } finally {
    await block('-D', 'INPUT', 'udp', 4789);
  }
  await block('-I', 'OUTPUT', 'tcp', 2377);
  try {
    refused(
      await paas.ssh('nodes:add n3 ssh://root@198.18.3.2:2201'),
      1,
      /port 2377\/tcp \(Swarm cluster management\) is closed from n3 \(198\.18\.3\.2\) to 198\.18\.1\.2/,
    );
  } finally {
    await block('-D', 'OUTPUT', 'tcp', 2377);
  }
  assert.equal((await swarmOf(3)).LocalNodeState, 'inactive');
});

test('node 3 joins; nodes:list --json shows three ready nodes; drain, activate, label', { skip }, async () => {
  const r = await paas.ssh('nodes:add n3 ssh://root@198.18.3.2:2201');
  assert.equal(r.exitCode, 0, r.stderr + paas.log());
  const list = await paas.ssh('nodes:list --json');
  assert.equal(list.exitCode, 0, list.stderr);
  const nodes = JSON.parse(list.stdout) as {
    name: string;
    address: string;
    role: string;
    state: string;
    availability: string;
    memoryBytes: number;
  }[];
  assert.equal(nodes.length, 3);
  assert.deepEqual(
    nodes.map((n) => n.state),
    ['ready', 'ready', 'ready'],
  );
  const byName = Object.fromEntries(nodes.map((n) => [n.name, n]));
  assert.equal(byName.n2?.address, '198.18.2.2');
  assert.equal(byName.n3?.role, 'worker');
  assert.equal(nodes.filter((n) => n.role === 'manager').length, 1);
  assert.ok(nodes.every((n) => n.memoryBytes > 0));
  const text = await paas.ssh('nodes:list');
  assert.match(text.stdout, /^NAME\s+ADDRESS\s+ROLE\s+STATE\s+AVAILABILITY\s+TASKS\s+APPS\s+MEMORY\s+FREE/);
  assert.match(text.stdout, /n3\s+198\.18\.3\.2\s+worker\s+ready\s+active/);

  const n3 = (await swarmOf(3)).NodeID;
  const spec = async () => (await engine(1).getNode(n3).inspect()).Spec as { Availability: string; Labels: Record<string, string> };
  assert.equal((await paas.ssh('nodes:drain n3')).exitCode, 0);
  assert.equal((await spec()).Availability, 'drain');
  assert.equal((await paas.ssh('nodes:activate n3')).exitCode, 0);
  assert.equal((await spec()).Availability, 'active');
  assert.equal((await paas.ssh('nodes:label n3 tier=web')).exitCode, 0);
  assert.equal((await spec()).Labels.tier, 'web');
  assert.equal((await spec()).Labels['paas.name'], 'n3');
  refused(await paas.ssh('nodes:label n3 tier'), 2, /bad label 'tier': expected KEY=VALUE/);
  refused(await paas.ssh('nodes:label n3 paas.name=x'), 2, /label keys starting with 'paas\.' are paas's own/);
  refused(await paas.ssh('nodes:drain ghost'), 1, /no node named 'ghost'/);
  assert.equal((await spec()).Labels['paas.name'], 'n3');
});

let endpoint: RegistryEndpoint;

test("an image pushed to paas's registry is pulled by a node with paas's login, and refused without", { skip }, async () => {
  endpoint = new RegistryFiles(path.join(paas.dataDir, 'registry')).endpoint()!;
  const load = await execa('sh', ['-c', `docker save ${BUSYBOX_IMAGE} | docker -H ${sock(1)} load`], { reject: false });
  assert.equal(load.exitCode, 0, load.stderr);
  const access = new RegistryAccess(engine(1), () => endpoint);
  const ref = await access.push(BUSYBOX_IMAGE, 'probe', 1);
  assert.equal(ref, `${REGISTRY}/paas/probe:v1`);
  const node2 = engine(2);
  await assert.rejects(pull(node2, ref), /no basic auth credentials|unauthorized|authentication required/i);
  await pull(node2, ref, access.auth);
  assert.ok((await node2.getImage(ref).inspect()).Id);
});

function pull(d: Dockerode, ref: string, authconfig?: object): Promise<void> {
  return new Promise((resolve, reject) => {
    d.pull(ref, authconfig ? { authconfig } : {}, (err: Error | null, stream?: NodeJS.ReadableStream) => {
      if (err || !stream) return reject(err ?? new Error('no stream'));
      d.modem.followProgress(stream, (e: Error | null, out: { error?: string }[]) => {
        const failed = out?.find((o) => o.error);
        if (e || failed) reject(e ?? new Error(failed!.error));
        else resolve();
      });
    });
  });
}

test('the registry is started again when it exits', { skip }, async () => {
  const pidOf = () => {
    for (const pid of fs.readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
      try {
        const cmd = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
        if (cmd[0]?.endsWith('docker-registry') && cmd[2] === path.join(paas.dataDir, 'registry', 'config.yml')) return Number(pid);
      } catch {
        // gone
      }
    }
    return null;
  };
  const pid = pidOf();
  assert.ok(pid, 'the registry runs');
  process.kill(pid, 'SIGKILL');
  await waitFor(
    'a new registry process',
    async () => {
      const now = pidOf();
      return now !== null && now !== pid && (await probe(endpoint).catch(() => 0)) === 401;
    },
    15_000,
    100,
  );
});

test('nodes:remove refuses the node running the only replica of an app, then removes it', { skip }, async () => {
  const n3 = (await swarmOf(3)).NodeID;
  const access = new RegistryAccess(engine(1), () => endpoint);
  // a Swarm service as the scheduler makes them: the app's label, paas's image, paas's login
  const service = await engine(1).createService(access.auth, {
    Name: 'probe-web',
    Labels: { 'paas.app': 'probe' },
    TaskTemplate: {
      ContainerSpec: { Image: access.imageRef('probe', 1), Command: ['sleep', '3600'], Labels: { 'paas.app': 'probe' } },
      Placement: { Constraints: [`node.id==${n3}`] },
    },
    Mode: { Replicated: { Replicas: 1 } },
  });
  try {
    await waitFor(
      'the task running on n3',
      async () => {
        const tasks = await engine(1).listTasks({ filters: { service: ['probe-web'] } });
        return tasks.some((t: { NodeID?: string; Status?: { State?: string } }) => t.NodeID === n3 && t.Status?.State === 'running');
      },
      60_000,
      250,
    );
    const listed = JSON.parse((await paas.ssh('nodes:list --json')).stdout) as { name: string; apps: string[]; tasks: number }[];
    assert.deepEqual(listed.find((n) => n.name === 'n3')?.apps, ['probe']);
    refused(await paas.ssh('nodes:remove n3'), 1, /n3 runs the only replicas of probe: scale it up or drain n3/);
    assert.equal((await swarmOf(3)).LocalNodeState, 'active');
  } finally {
    await service.remove();
  }
  const manager = JSON.parse((await paas.ssh('nodes:list --json')).stdout).find((n: { role: string }) => n.role === 'manager').name;
  refused(await paas.ssh(`nodes:remove ${manager}`), 1, /is the manager/);
  const r = await paas.ssh('nodes:remove n3');
  assert.equal(r.exitCode, 0, r.stderr);
  assert.match(r.stdout, /Removed node n3/);
  assert.equal((await swarmOf(3)).LocalNodeState, 'inactive');
  const names = (JSON.parse((await paas.ssh('nodes:list --json')).stdout) as { name: string }[]).map((n) => n.name);
  assert.equal(names.length, 2);
  assert.ok(!names.includes('n3'));
  refused(await paas.ssh('nodes:remove n3'), 1, /no node named 'n3'/);
});
