/**
 * `npm run bench scale`: `apps:scale web=10` (from web=0) of a busybox httpd app (health path `/`)
 * until all ten replicas are healthy and routed, against starting ten containers of the same
 * image with the docker CLI and waiting for each to answer HTTP.
 *
 * What each side does (printed with the figures):
 * - paas: one `ssh … apps:scale web=10`; the command returns once the replicas passed the proxy's
 *   health check and were swapped in; the clock stops when ten distinct HOSTNAMEs have answered
 *   through the proxy. (How paas starts them, one after another or at once, is its own business:
 *   src/deploy/rollout.ts `converge`.)
 * - by hand, concurrent: ten `docker run -d` started at once (as `docker compose up --scale` or
 *   `xargs -P` would), each polled on its own port with one GET every 20 ms until it answers 200.
 * - by hand, one at a time: the same ten `docker run -d` one after another, then the same polling;
 *   shown for reference.
 * The containers get paas's options (hand-docker.ts); the image exists on both sides (no build);
 * neither side times its cleanup (`apps:scale web=0`, `docker rm -f`); the order of the three
 * sides rotates each run after one untimed warm-up each.
 */
import path from 'node:path';
import { busyboxApp, commitFiles, healthAppJson, push } from '../test/helpers/app-repo.js';
import { ensureBusyboxImage } from '../test/helpers/base-images.js';
import { PaasServer } from '../test/helpers/paas-server.js';
import { fmtStats, median, plural, pollUntil, probe, ratio, Results, sleep, waitForQuiet } from './bench-stats.js';
import { containerIp, HAND_RUN_OPTIONS, handRemove, handRun, waitServed } from './hand-docker.js';

const RUNS = Number(process.env.BENCH_RUNS ?? 5);
const N = 10;
const APP = 'scalebench';

async function handConcurrent(paas: PaasServer, image: string, ids: string[]): Promise<void> {
  await Promise.all(
    Array.from({ length: N }, async () => {
      const id = await handRun(image, paas.labels, `${APP}-hand.web`);
      ids.push(id);
      await waitServed(await containerIp(id), (status) => status === 200, 120_000);
    }),
  );
}

async function handSerial(paas: PaasServer, image: string, ids: string[]): Promise<void> {
  for (let i = 0; i < N; i++) ids.push(await handRun(image, paas.labels, `${APP}-hand.web`));
  const ips = await Promise.all(ids.map(containerIp));
  await Promise.all(ips.map((ip) => waitServed(ip, (status) => status === 200, 120_000)));
}

/** Distinct HOSTNAMEs answering through the proxy (round robin), at most N * 3 requests. */
async function routedReplicas(paas: PaasServer): Promise<number> {
  const seen = new Set<string>();
  for (let i = 0; i < N * 3 && seen.size < N; i++) {
    const r = await probe(`http://127.0.0.1:${paas.ports.http}/cgi-bin/env`, { host: `${APP}.paas.test`, timeoutMs: 2000 });
    if (r?.status === 200) seen.add(/HOSTNAME=(\S+)/.exec(r.body)?.[1] ?? '');
  }
  return seen.size;
}

async function viaPaas(paas: PaasServer): Promise<void> {
  const r = await paas.ssh(`apps:scale ${APP} web=${N}`);
  if (r.exitCode !== 0) throw new Error(r.stderr);
  await pollUntil(`${N} replicas routed`, async () => (await routedReplicas(paas)) === N, 120_000);
}

async function scaleZero(paas: PaasServer): Promise<void> {
  const down = await paas.ssh(`apps:scale ${APP} web=0`);
  if (down.exitCode !== 0) throw new Error(down.stderr);
}

async function main() {
  await ensureBusyboxImage();
  const res = new Results('scale', `scale from 0 to ${N} web replicas`);
  const paas = await new PaasServer({ PAAS_LOG_LEVEL: 'warn' }).start();
  try {
    const repo = path.join(paas.dataDir, 'repo');
    await commitFiles(repo, busyboxApp('scale', { 'app.json': healthAppJson() }));
    const first = await push(paas, repo, APP);
    if (first.exitCode !== 0) throw new Error(first.output);
    const image = `paas/${APP}:v1`;
    await scaleZero(paas);

    // each side: [timed work, untimed cleanup]
    const sides: { name: string; run: () => Promise<number> }[] = [
      {
        name: 'paas',
        run: async () => {
          const t0 = performance.now();
          await viaPaas(paas);
          const ms = performance.now() - t0;
          await scaleZero(paas);
          return ms;
        },
      },
      ...[handConcurrent, handSerial].map((fn) => ({
        name: fn.name,
        run: async () => {
          const ids: string[] = [];
          try {
            const t0 = performance.now();
            await fn(paas, image, ids);
            return performance.now() - t0;
          } finally {
            await handRemove(ids);
          }
        },
      })),
    ];
    for (const s of sides) await s.run(); // warm-up
    const load = await waitForQuiet('scale');
    const times: number[][] = sides.map(() => []);
    for (let i = 0; i < RUNS; i++) {
      for (let k = 0; k < sides.length; k++) {
        const j = (i + k) % sides.length;
        times[j].push(await sides[j].run());
        await sleep(1000);
      }
    }
    const [ours, conc, serial] = times;
    const cond = `${plural(RUNS, 'run')} each after 1 warm-up, order of the three sides rotated each run; ${load}; cleanup untimed`;
    res.add({
      figure: `scale: web=0 → ${N} replicas all answering`,
      paas: `\`apps:scale web=${N}\` + ${N} distinct HOSTNAMEs via the proxy: ${fmtStats(ours, 's', 2, 1000)}`,
      reference: `${N} × ${HAND_RUN_OPTIONS} started concurrently + GET each every 20 ms until 200: ${fmtStats(conc, 's', 2, 1000)}`,
      ratio: ratio(median(ours), median(conc)),
      conditions: cond,
    });
    res.add({
      figure: `scale: web=0 → ${N}, by hand one at a time`,
      paas: `(as above) ${(median(ours) / 1000).toFixed(2)} s`,
      reference: `the same ${N} \`docker run -d\` one after another, then the same polling: ${fmtStats(serial, 's', 2, 1000)}`,
      ratio: ratio(median(ours), median(serial)),
      conditions: `${cond}; for reference`,
    });
    res.note(
      'paas starts the replicas through the Engine API from its control plane (src/deploy/rollout.ts `converge`: one after another, or at once, decides which reference row is like for like) and waits for the proxy health check before routing them; the by-hand sides poll each container directly and route nothing.',
    );
    res.write();
  } finally {
    await paas.destroy();
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
