/**
 * `npm run bench swarm`: the Swarm scheduler against the local one, same app, same machine.
 * - push to first new 200: `git push` of a new marker until the proxy answers it, for an app on
 *   the Swarm scheduler (test node 4's engine as a one-node Swarm manager: test-node.sh) and for
 *   the same app on the local scheduler (the host's engine); BENCH_RUNS pushes each, alternating.
 * - scale 0 to 10: `ps:scale web=10` of the Swarm app until ten distinct replicas answer through
 *   the proxy, against the same on the local scheduler.
 * Without the registry (another branch) the Swarm is one node, so the registry push and pull a
 * multi-node push pays are not in these figures.
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
const NODE_SOCKET = '/run/paasnode4/docker.sock';
const NODE_HOST = `unix://${NODE_SOCKET}`;

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

async function scale(side: Side): Promise<number> {
  const t0 = performance.now();
  const r = await side.paas.ssh(`ps:scale ${side.app} web=${N}`);
  if (r.exitCode !== 0) throw new Error(r.stderr);
  await pollUntil(`${N} replicas routed`, async () => (await replicas(side)) === N, 180_000);
  const ms = performance.now() - t0;
  await side.paas.ssh(`ps:scale ${side.app} web=0`);
  return ms;
}

async function setUp(name: string, env: Record<string, string>, swarm: boolean): Promise<Side> {
  const paas = await new PaasServer({ PAAS_LOG_LEVEL: 'warn', ...env }).start();
  const app = `bench${name}`;
  await paas.ssh(`apps:create ${app}`);
  if (swarm) await paas.ssh(`scheduler:set ${app} swarm`);
  const repo = path.join(paas.dataDir, 'repo');
  await commitFiles(repo, busyboxApp('m0', { 'app.json': healthAppJson() }));
  const r = await push(paas, repo, app);
  if (r.exitCode !== 0) throw new Error(r.output);
  return { name, paas, repo, app };
}

async function main() {
  const madeNode = !fs.existsSync(NODE_SOCKET);
  if (madeNode) await execa('/work/shared/tools/test-node.sh', ['up', '4']);
  const node = (...a: string[]) => execa('docker', ['-H', NODE_HOST, ...a], { reject: false });
  let madeSwarm = false;
  if ((await node('info', '--format', '{{.Swarm.LocalNodeState}}')).stdout.trim() !== 'active') {
    await node('swarm', 'init', '--advertise-addr', '198.18.4.2');
    madeSwarm = true;
  }
  await ensureBusyboxImage();
  process.env.DOCKER_HOST = NODE_HOST;
  await ensureBusyboxImage();
  delete process.env.DOCKER_HOST;
  const res = new Results('swarm', 'the Swarm scheduler against the local one');
  const local = await setUp('local', {}, false);
  const swarm = await setUp('swarm', { DOCKER_HOST: NODE_HOST }, true);
  try {
    const load = await waitForQuiet('swarm');
    const pushes: Record<string, number[]> = { local: [], swarm: [] };
    for (let i = 0; i < RUNS; i++)
      for (const s of i % 2 ? [swarm, local] : [local, swarm]) {
        pushes[s.name]!.push(await firstNew(s, `m${i + 1}`));
        await sleep(1000);
      }
    res.add({
      figure: 'push to first new 200',
      paas: `Swarm scheduler (one-node Swarm, services on host-mode ports): ${fmtStats(pushes.swarm!, 's', 2, 1000)}`,
      reference: `local scheduler, same app: ${fmtStats(pushes.local!, 's', 2, 1000)}`,
      ratio: ratio(median(pushes.swarm!), median(pushes.local!)),
      conditions: `${plural(RUNS, 'push')} each, alternating; ${load}; the two engines are separate dockerds on one machine`,
    });
    await local.paas.ssh(`ps:scale ${local.app} web=0`);
    await swarm.paas.ssh(`ps:scale ${swarm.app} web=0`);
    const scales = { local: [await scale(local)], swarm: [await scale(swarm)] };
    res.add({
      figure: `scale web=0 → ${N}, all answering`,
      paas: `Swarm scheduler: ${fmtStats(scales.swarm, 's', 2, 1000)}`,
      reference: `local scheduler: ${fmtStats(scales.local, 's', 2, 1000)}`,
      ratio: ratio(median(scales.swarm), median(scales.local)),
      conditions: '1 run each; one-node Swarm (multi-node needs the registry)',
    });
    res.write();
  } finally {
    await local.paas.destroy();
    const svcs = (
      await node('service', 'ls', '-q', '--filter', `label=${Object.keys(swarm.paas.labels)[1]}=${Object.values(swarm.paas.labels)[1]}`)
    ).stdout
      .split('\n')
      .filter(Boolean);
    for (const id of svcs) await node('service', 'rm', id);
    await swarm.paas.destroy();
    if (madeSwarm) await node('swarm', 'leave', '--force');
    if (madeNode) await execa('/work/shared/tools/test-node.sh', ['down', '4'], { reject: false });
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
