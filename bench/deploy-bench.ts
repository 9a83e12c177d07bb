/**
 * `npm run bench deploy`: a tiny Dockerfile app (busybox httpd), `git push` until the first 200
 * with the new content through the paas proxy, against the same build and run done by hand with
 * the docker CLI; once with a health path (`/`) and once without one. Target ratio <= 1.1 for both.
 *
 * Same work on both sides:
 * - the same Dockerfile and build context (app.json included), one changed file per run, so the
 *   COPY, RUN and CMD steps rebuild on both sides and FROM is cached on both; both use the
 *   engine's classic builder (paas via the API, the CLI here has no buildx); no image labels on
 *   either side (the paas server runs with PAAS_CONTAINER_LABELS='' so its build adds no LABEL
 *   step, and the by-hand build has no --label);
 * - the container gets paas's options (see hand-docker.ts);
 * - both poll with one GET every 20 ms from the start: paas through its proxy (the previous
 *   release answers until the switch), by hand the previous container until the new one has an
 *   address, then the new one (hand-docker.ts liveTraffic); the clock stops at the first 200 with
 *   the new content;
 * - every run's content is new (markers name the variant and the bench run), so no build is a
 *   cache hit;
 * - neither side times its cleanup: the previous by-hand container is removed after the clock
 *   stops, and paas's stopping of the old container (before `git push` exits) is shown apart;
 * - one untimed warm-up deploy each, then runs in alternating order.
 */
import fs from 'node:fs';
import path from 'node:path';
import { execa } from 'execa';
import { busyboxApp, commitFiles, healthAppJson, push } from '../test/helpers/app-repo.js';
import { ensureBusyboxImage } from '../test/helpers/base-images.js';
import { PaasServer } from '../test/helpers/paas-server.js';
import { alternating, fmtStats, median, plural, pollUntil, probe, ratio, Results, sleep, waitForQuiet } from './bench-stats.js';
import { containerIp, HAND_RUN_OPTIONS, handRemove, handRun, liveTraffic, waitServed } from './hand-docker.js';

const RUNS = Number(process.env.BENCH_RUNS ?? 5);
const HAND_TAG = 'paas-bench/hand:latest';
/** in every marker: content from an earlier bench run would be a build-cache hit */
const RUN_ID = Date.now().toString(36);

/** One side-by-side comparison: `app` deployed with or without a health path in app.json. */
interface Variant {
  app: string;
  label: string;
  files: Record<string, string>;
}

async function main() {
  await ensureBusyboxImage();
  const res = new Results('deploy', 'git push to first 200 with the new content, with and without a health path');
  // no test labels: they would add LABEL build steps a real install does not have
  const paas = await new PaasServer({ PAAS_LOG_LEVEL: 'warn', PAAS_CONTAINER_LABELS: '' }).start();
  const handImages = new Set<string>();
  const handLive: string[] = [];
  const apps: string[] = [];
  try {
    const variants: Variant[] = [
      // kamal-proxy requires a health path (/up) and Dokku recommends one
      { app: 'deploybench', label: 'health path `/`', files: busyboxApp('x', { 'app.json': healthAppJson() }) },
      // no health path: traffic switches once the port accepts connections
      { app: 'deploybench-port', label: 'no health path', files: busyboxApp('x', { 'app.json': '{}' }) },
    ];
    for (const v of variants) {
      apps.push(v.app);
      await compare(v);
    }
    res.note(
      "Both sides build with the engine's classic builder from the same context (FROM cached, COPY/RUN/CMD rebuilt; every run's content is new, so no build is a cache hit) and add no image labels; paas also receives the push and exports the commit, which the by-hand side (files already on disk) does not do. Both sides serve the same live traffic while they deploy: the clock's GET every 20 ms goes through paas's proxy to the previous release until the switch, and by hand to the previous container until the new one has an address. `git push` exits after the stability window (2 s, the previous release warm) and the old container's stop.",
    );
    res.write();
  } finally {
    await handRemove(handLive);
    for (const app of apps) await paas.ssh(`apps:destroy ${app} --force`);
    await execa('docker', ['rmi', '-f', HAND_TAG, ...handImages], { reject: false });
    await paas.destroy();
  }

  async function compare(v: Variant): Promise<void> {
    const hand = path.join(paas.dataDir, `hand-${v.app}`);
    for (const [f, c] of Object.entries(v.files)) {
      fs.mkdirSync(path.dirname(path.join(hand, f)), { recursive: true });
      fs.writeFileSync(path.join(hand, f), c);
    }
    const repo = path.join(paas.dataDir, `repo-${v.app}`);
    await commitFiles(repo, v.files);
    const first = await push(paas, repo, v.app);
    if (first.exitCode !== 0) throw new Error(first.output);

    /** by hand: build, run, GET until served; the clock stops there, then the previous container goes. */
    const byHand = async (marker: string): Promise<number> => {
      fs.writeFileSync(path.join(hand, 'www', 'index.html'), `${marker}\n`);
      const previous = handLive[0] ? await containerIp(handLive[0]) : null;
      const t0 = performance.now();
      const traffic = liveTraffic(previous);
      const image = (await execa('docker', ['build', '-q', '-t', HAND_TAG, hand])).stdout.trim();
      const id = await handRun(HAND_TAG, paas.labels, 'hand.web');
      const ip = await containerIp(id);
      traffic.stop();
      await waitServed(ip, (status, body) => status === 200 && body === `${marker}\n`);
      const ms = performance.now() - t0;
      handImages.add(image);
      await handRemove(handLive.splice(0));
      handLive.push(id);
      return ms;
    };

    const gitExit: number[] = [];
    /** paas: git push; the clock stops at the first 200 with the new content, which may come before git exits. */
    const viaPaas = async (marker: string): Promise<number> => {
      await commitFiles(repo, { 'www/index.html': `${marker}\n` });
      const t0 = performance.now();
      const pushed = push(paas, repo, v.app).then((r) => {
        if (r.exitCode !== 0) throw new Error(r.output);
        return performance.now() - t0;
      });
      pushed.catch(() => {});
      await pollUntil('the new content via the proxy', async () => {
        const r = await probe(`http://127.0.0.1:${paas.ports.http}/`, { host: `${v.app}.paas.test`, timeoutMs: 1000 });
        return r !== null && r.status === 200 && r.body === `${marker}\n`;
      });
      const ms = performance.now() - t0;
      gitExit.push(await pushed);
      return ms;
    };

    // untimed warm-up, one each
    // markers name the variant: content seen in an earlier variant would be a build-cache hit
    await byHand(`${v.app}-${RUN_ID}-warm-h`);
    await viaPaas(`${v.app}-${RUN_ID}-warm-p`);
    gitExit.length = 0;
    const load = await waitForQuiet(`deploy (${v.label})`);
    const hand_: number[] = [];
    const ours: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      const [a, b] = await alternating(
        i,
        () => byHand(`${v.app}-${RUN_ID}-hand-${i}`),
        () => viaPaas(`${v.app}-${RUN_ID}-paas-${i}`),
      );
      hand_.push(a);
      ours.push(b);
      await sleep(1000);
    }
    const cond = `${plural(RUNS, 'run')} each after 1 warm-up, alternating order; ${load}`;
    res.add({
      figure: `deploy, ${v.label}: busybox httpd app, change one file → first 200 with the new content`,
      paas: `\`git push\`, GET via the proxy every 20 ms: ${fmtStats(ours, 's', 2, 1000)}`,
      reference: `\`docker build\` (no --label) + ${HAND_RUN_OPTIONS} + GET on the container every 20 ms: ${fmtStats(hand_, 's', 2, 1000)}`,
      ratio: ratio(median(ours), median(hand_)),
      conditions: `${cond}; old container removal untimed on both sides; target ≤ 1.1x`,
    });
    res.add({
      figure: `deploy, ${v.label}: until \`git push\` exits (stability window, old container stopped)`,
      paas: fmtStats(gitExit, 's', 2, 1000),
      reference: '',
      ratio: '',
      conditions: `the same ${plural(RUNS, 'paas run')}; includes the 2 s stability window and stopping the old container (SIGTERM), which the by-hand side does not time`,
    });
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
