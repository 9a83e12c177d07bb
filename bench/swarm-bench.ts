/**
 * `npm run bench swarm`: the Swarm scheduler against the local one, same app, same machine.
 * - A two-node Swarm from test/helpers/test-node.sh: node 6's engine is paas's (the manager, made
 *   by `cluster:init`, with paas's registry on 198.18.6.1:5000), node 7 joins it as a worker. The
 *   local side is the host's engine. Both are torn down after.
 * - push to first new 200: `git push` of a new marker until the proxy answers it, for the app with
 *   web=2 on the Swarm (one replica per node: the release image is pushed to the registry once and
 *   pulled by the worker, so that cost is in the figure) and the same app on the local scheduler;
 *   BENCH_RUNS pushes each, alternating.
 * - scale 0 to 10: `ps:scale web=10` until ten distinct replicas answer through the proxy (spread
 *   over both nodes), against the same on the local scheduler.
 */
import fs from 'node:fs';
import path from 'node:path';
import { execa } from 'execa';
import { busyboxApp, commitFiles, healthAppJson, push } from '../test/helpers/app-repo.js';
import { ensureBusyboxImage } from '../test/helpers/base-images.js';
import { PaasServer } from '../test/helpers/paas-server.js';
import { fmtStats, median, plural, pollUntil, probe, ratio, Results, sleep, waitForQuiet } from './bench-stats.js';

const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const N = 10;
const TOOL = path.resolve(import.meta.dirname, '..', 'test', 'helpers', 'test-node.sh');
const MANAGER = 6;
const WORKER = 7;
const sock = (n: number) => `unix:///run/paasnode${n}/docker.sock`;
const NODE_HOST = sock(MANAGER);
const REGISTRY = `198.18.${MANAGER}.1:5000`;
const FORWARD_RULE = ['DOCKER-USER', '-s', '198.18.6.0/23', '-d', '198.18.6.0/23', '-j', 'ACCEPT'];

interface Side {
  name: string;
  paas: PaasServer;
  repo: string;
  app: string;
}

async function firstNew(side: Side, marker: string): Promise<number> {
  await commitFiles(side.repo, { 'www/index.html': `${marker}\n` });
  const t0 = performance.now();
  const r = await push(side.paas, side.repo, side.app);
  if (r.exitCode !== 0) throw new Error(r.output);
  await pollUntil(
    `${marker} served`,
    async () => (await probe(`http://127.0.0.1:${side.paas.ports.http}/`, { host: `${side.app}.paas.test` }))?.body.trim() === marker,
    60_000,
  );
  return performance.now() - t0;
}

async function replicas(side: Side): Promise<number> {
  const seen = new Set<string>();
  for (let i = 0; i < N * 3 && seen.size < N; i++) {
    const r = await probe(`http://127.0.0.1:${side.paas.ports.http}/cgi-bin/env`, { host: `${side.app}.paas.test`, timeoutMs: 2000 });
    if (r?.status === 200) seen.add(/HOSTNAME=(\S+)/.exec(r.body)?.[1] ?? '');
  }
  return seen.size;
}

async function scale(side: Side, atFull: () => unknown): Promise<number> {
  const t0 = performance.now();
  const r = await side.paas.ssh(`ps:scale ${side.app} web=${N}`);
  if (r.exitCode !== 0) throw new Error(r.stderr);
  await pollUntil(`${N} replicas routed`, async () => (await replicas(side)) === N, 180_000);
  const ms = performance.now() - t0;
  await atFull();
  await side.paas.ssh(`ps:scale ${side.app} web=0`);
  return ms;
}

async function setUp(name: string, env: Record<string, string>, swarm: boolean): Promise<Side> {
  const paas = await new PaasServer({ PAAS_LOG_LEVEL: 'warn', ...env }).start();
  const app = `bench${name}`;
  const must = async (cmd: string) => {
    const r = await paas.ssh(cmd);
    if (r.exitCode !== 0) throw new Error(`${cmd}: ${r.stderr}`);
    return r.stdout;
  };
  if (swarm) {
    await must(`cluster:init --advertise-addr 198.18.${MANAGER}.2`);
    // the worker joins with the Swarm's token (nodes:add's SSH preparation is not what is measured here)
    const token = (await node(MANAGER, 'swarm', 'join-token', '-q', 'worker')).stdout.trim();
    const join = await node(
      WORKER,
      'swarm',
      'join',
      '--token',
      token,
      '--advertise-addr',
      `198.18.${WORKER}.2`,
      `198.18.${MANAGER}.2:2377`,
    );
    if (join.exitCode !== 0) throw new Error(`swarm join: ${join.stderr}`);
    // every test node reports the host name `vm`: paas names nodes by this label (nodes:add sets it)
    const id = (await node(WORKER, 'info', '--format', '{{.Swarm.NodeID}}')).stdout.trim();
    await node(MANAGER, 'node', 'update', '--label-add', `paas.name=n${WORKER}`, id);
    await pollUntil(
      'the worker ready',
      async () => (await node(MANAGER, 'node', 'inspect', id, '--format', '{{.Status.State}}')).stdout.trim() === 'ready',
      30_000,
      200,
    );
  }
  await must(`apps:create ${app}`);
  if (swarm) await must(`scheduler:set ${app} swarm`);
  const repo = path.join(paas.dataDir, 'repo');
  await commitFiles(repo, busyboxApp('m0', { 'app.json': healthAppJson() }));
  const r = await push(paas, repo, app);
  if (r.exitCode !== 0) throw new Error(r.output);
  await must(`ps:scale ${app} web=2`);
  return { name, paas, repo, app };
}

const node = (n: number, ...a: string[]) => execa('docker', ['-H', sock(n), ...a], { reject: false });

/** The nodes the app's replicas run on (ps:report). */
async function nodesOf(side: Side): Promise<string[]> {
  const ps = JSON.parse((await side.paas.ssh(`ps:report ${side.app} --json`)).stdout) as { containers: Array<{ node?: string }> };
  return [...new Set(ps.containers.map((c) => c.node ?? '?'))].sort();
}

async function main() {
  const made: number[] = [];
  let addedRule = false;
  const res = new Results('swarm', 'the Swarm scheduler (two nodes, registry) against the local one');
  let local: Side | null = null;
  let swarm: Side | null = null;
  try {
    for (const n of [MANAGER, WORKER]) {
      if (fs.existsSync(`/run/paasnode${n}/docker.sock`))
        throw new Error(`test node ${n} is in use (/run/paasnode${n}): is a Swarm test running?`);
      const up = await execa(TOOL, ['up', String(n)], { reject: false });
      if (up.exitCode !== 0) throw new Error(`test-node.sh up ${n}: ${up.stderr}`);
      made.push(n);
      await node(n, 'swarm', 'leave', '--force');
    }
    if ((await execa('iptables', ['-C', ...FORWARD_RULE], { reject: false })).exitCode !== 0) {
      await execa('iptables', ['-I', ...FORWARD_RULE]);
      addedRule = true;
    }
    await ensureBusyboxImage();
    process.env.DOCKER_HOST = NODE_HOST;
    await ensureBusyboxImage();
    delete process.env.DOCKER_HOST;
    local = await setUp('local', {}, false);
    swarm = await setUp('swarm', { DOCKER_HOST: NODE_HOST, PAAS_REGISTRY_LISTEN: REGISTRY }, true);
    const spread = await nodesOf(swarm);
    if (spread.length !== 2) throw new Error(`the Swarm app's 2 replicas are not on both nodes: ${spread}`);
    const load = await waitForQuiet('swarm');
    const pushes: Record<string, number[]> = { local: [], swarm: [] };
    for (let i = 0; i < RUNS; i++)
      for (const s of i % 2 ? [swarm, local] : [local, swarm]) {
        pushes[s.name]!.push(await firstNew(s, `m${i + 1}`));
        await sleep(1000);
      }
    res.add({
      figure: 'push to first new 200, web=2',
      paas: `Swarm scheduler (2 nodes, one replica each; image pushed to paas's registry, pulled by the worker): ${fmtStats(pushes.swarm!, 's', 2, 1000)}`,
      reference: `local scheduler, same app: ${fmtStats(pushes.local!, 's', 2, 1000)}`,
      ratio: ratio(median(pushes.swarm!), median(pushes.local!)),
      conditions: `${plural(RUNS, 'push')} each, alternating; ${load}; the engines are separate dockerds on one machine (veth links)`,
    });
    await local.paas.ssh(`ps:scale ${local.app} web=0`);
    await swarm.paas.ssh(`ps:scale ${swarm.app} web=0`);
    const scales = { local: [await scale(local, () => undefined)], swarm: [] as number[] };
    let spreadAt10: string[] = [];
    scales.swarm.push(
      await scale(swarm, async () => {
        spreadAt10 = await nodesOf(swarm!);
      }),
    );
    res.add({
      figure: `scale web=0 → ${N}, all answering`,
      paas: `Swarm scheduler: ${fmtStats(scales.swarm, 's', 2, 1000)}`,
      reference: `local scheduler: ${fmtStats(scales.local, 's', 2, 1000)}`,
      ratio: ratio(median(scales.swarm), median(scales.local)),
      conditions: `1 run each; the ${N} Swarm replicas on ${spreadAt10.length} nodes (${spreadAt10.join(', ')})`,
    });
    res.write();
  } finally {
    await local?.paas.destroy();
    if (swarm) {
      const label = Object.entries(swarm.paas.labels).map(([k, v]) => (v ? `${k}=${v}` : k))[0]!;
      const svcs = (await node(MANAGER, 'service', 'ls', '-q', '--filter', `label=${label}`)).stdout.split('\n').filter(Boolean);
      for (const id of svcs) await node(MANAGER, 'service', 'rm', id);
      await swarm.paas.destroy();
    }
    for (const n of made) {
      await node(n, 'swarm', 'leave', '--force');
      await execa(TOOL, ['down', String(n)], { reject: false });
    }
    if (addedRule) await execa('iptables', ['-D', ...FORWARD_RULE], { reject: false });
    fs.rmSync(`/etc/docker/certs.d/${REGISTRY}`, { recursive: true, force: true });
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
