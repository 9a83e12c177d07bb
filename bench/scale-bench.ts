/**
 * `npm run bench scale`: `apps:scale web=10` (from web=0) of a busybox httpd app (health path `/`) until all
 * ten replicas are healthy and routed (ten distinct HOSTNAMEs answer through the paas proxy),
 * against ten `docker run -d` of the same image plus waiting for each to answer HTTP, done by
 * hand, side by side and interleaved. Prints the ratio.
 */
import path from 'node:path';
import { execa } from 'execa';
import { busyboxApp, commitFiles, push, viaProxy, healthAppJson } from '../test/helpers/app-repo.js';
import { ensureBusyboxImage } from '../test/helpers/base-images.js';
import { httpGet } from '../test/helpers/docker.js';
import { PaasServer } from '../test/helpers/paas-server.js';
import { median, timed } from './bench-stats.js';
import { waitFor } from '../test/helpers/wait.js';

const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const N = 10;
const APP = 'scalebench';

/** Ten `docker run -d`, one after the other as a person (or a script) would, then each answers HTTP. */
async function byHand(paas: PaasServer, image: string): Promise<void> {
  const labels = Object.entries(paas.labels).flatMap(([k, v]) => ['--label', `${k}=${v}`]);
  const ids: string[] = [];
  try {
    for (let i = 0; i < N; i++) {
      ids.push((await execa('docker', ['run', '-d', ...labels, '--network', 'paas', '-e', 'PORT=5000', image])).stdout.trim());
    }
    const ips = await Promise.all(
      ids.map(async (id) =>
        (await execa('docker', ['inspect', '-f', '{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}', id])).stdout.trim(),
      ),
    );
    await Promise.all(
      ips.map((ip) => waitFor(`http://${ip}:5000/`, async () => (await httpGet(`http://${ip}:5000/`, 1000)).status === 200, 120_000)),
    );
  } finally {
    if (ids.length) await execa('docker', ['rm', '-f', ...ids], { reject: false });
  }
}

/** Distinct HOSTNAMEs answering through the proxy (round robin), bounded. */
async function routedReplicas(paas: PaasServer): Promise<number> {
  const seen = new Set<string>();
  for (let i = 0; i < N * 6 && seen.size < N; i++) {
    const r = await viaProxy(paas, `${APP}.paas.test`, '/cgi-bin/env', 2000);
    if (r.status === 200) seen.add(/HOSTNAME=(\S+)/.exec(r.body)?.[1] ?? '');
  }
  return seen.size;
}

async function viaPaas(paas: PaasServer): Promise<void> {
  const r = await paas.ssh(`apps:scale ${APP} web=${N}`);
  if (r.exitCode !== 0) throw new Error(r.stderr);
  await waitFor(`${N} replicas routed`, async () => (await routedReplicas(paas)) === N, 120_000);
}

async function main() {
  await ensureBusyboxImage();
  const paas = await new PaasServer({ PAAS_LOG_LEVEL: 'warn' }).start();
  try {
    const repo = path.join(paas.dataDir, 'repo');
    await commitFiles(repo, busyboxApp('scale', { 'app.json': healthAppJson() }));
    const first = await push(paas, repo, APP);
    if (first.exitCode !== 0) throw new Error(first.output);
    const image = `paas/${APP}:v1`;
    await byHand(paas, image); // warm-up
    // both sides start ten containers from nothing
    const zero = await paas.ssh(`apps:scale ${APP} web=0`);
    if (zero.exitCode !== 0) throw new Error(zero.stderr);
    const a: number[] = [];
    const b: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      a.push(await timed(() => byHand(paas, image)));
      b.push(await timed(() => viaPaas(paas)));
      const down = await paas.ssh(`apps:scale ${APP} web=0`);
      if (down.exitCode !== 0) throw new Error(down.stderr);
    }
    const ma = median(a);
    const mb = median(b);
    const fmt = (xs: number[]) => xs.map((x) => (x / 1000).toFixed(2)).join(' ');
    console.log(`scale a busybox httpd app from 0 to ${N} web replicas until all answer, median of ${RUNS} (interleaved):`);
    console.log(`  by hand: ${N} x docker run -d + wait for HTTP on each        ${(ma / 1000).toFixed(2)} s   [${fmt(a)}]`);
    console.log(`  paas:    apps:scale web=${N} + ${N} HOSTNAMEs via the proxy  ${(mb / 1000).toFixed(2)} s   [${fmt(b)}]`);
    console.log(`  ratio paas/by-hand: ${(mb / ma).toFixed(2)}x`);
  } finally {
    await paas.destroy();
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
