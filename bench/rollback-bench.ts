/**
 * `npm run bench rollback`: `releases:rollback` of a small app (busybox httpd, health path /)
 * until the other release's content is served through the proxy, against swapping releases by
 * hand: `docker run` of the other image (paas's container options, hand-docker.ts) until it
 * answers with its content. Target: paas under 5 s. Two paas sections: warm (the default
 * keep-warm window: the other release's web container is paused and thawed, docs/instant-rollback.md;
 * target under 0.3 s) and cold (`releases:set keep-warm 0`: containers are started, as before).
 *
 * Same work: both sides flip between the same two images (v1 "A", v2 "B", already built), both
 * poll with one GET every 20 ms from the start (by hand the old container answers until the new
 * one has an address, as the old release does through paas's proxy until the switch) and stop
 * the clock at the first 200 with the other content; the
 * old container's removal is untimed on both sides (by hand: `docker rm -f` after the clock;
 * paas: stopping the old container before the command exits, shown apart). One untimed warm-up
 * each, then runs in alternating order.
 */
import path from 'node:path';
import { busyboxApp, commitFiles, healthAppJson, push } from '../test/helpers/app-repo.js';
import { ensureBusyboxImage } from '../test/helpers/base-images.js';
import { PaasServer } from '../test/helpers/paas-server.js';
import { alternating, fmtStats, median, plural, pollUntil, probe, ratio, Results, sleep, waitForQuiet } from './bench-stats.js';
import { containerIp, HAND_RUN_OPTIONS, handRemove, handRun, liveTraffic, waitServed } from './hand-docker.js';

const RUNS = Number(process.env.BENCH_RUNS ?? 5);
const APP = 'rollbench';
/** the app's own network, where paas runs its containers (the by-hand side joins it too) */
const NETWORK = `paas-${APP}`;

async function main() {
  await ensureBusyboxImage();
  const res = new Results('rollback', 'roll back to the previous release');
  const paas = await new PaasServer({ PAAS_LOG_LEVEL: 'warn' }).start();
  const handLive: string[] = [];
  try {
    const repo = path.join(paas.dataDir, 'repo');
    await commitFiles(repo, busyboxApp('A', { 'app.json': healthAppJson() }));
    for (const m of ['A', 'B']) {
      if (m === 'B') await commitFiles(repo, { 'www/index.html': 'B\n' });
      const r = await push(paas, repo, APP);
      if (r.exitCode !== 0) throw new Error(r.output);
    }
    const images: Record<string, string> = { A: `paas/${APP}:v1`, B: `paas/${APP}:v2` };
    // by hand starts where paas is: B live
    handLive.push(await handRun(images.B, paas.labels, `${APP}-hand.web`, NETWORK));
    let handServes = 'B';

    const byHand = async (): Promise<number> => {
      const want = handServes === 'A' ? 'B' : 'A';
      const previous = await containerIp(handLive[0]!);
      const t0 = performance.now();
      const traffic = liveTraffic(previous);
      const id = await handRun(images[want], paas.labels, `${APP}-hand.web`, NETWORK);
      const ip = await containerIp(id);
      traffic.stop();
      await waitServed(ip, (status, body) => status === 200 && body.trim() === want);
      const ms = performance.now() - t0;
      await handRemove(handLive.splice(0));
      handLive.push(id);
      handServes = want;
      return ms;
    };

    const exits: number[] = [];
    const viaProxy = () => probe(`http://127.0.0.1:${paas.ports.http}/`, { host: `${APP}.paas.test`, timeoutMs: 1000 });
    const viaPaas = async (): Promise<number> => {
      const live = (await viaProxy())?.body.trim();
      const want = live === 'A' ? 'B' : 'A';
      const t0 = performance.now();
      const cmd = paas.ssh(`releases:rollback ${APP}`).then((r) => {
        if (r.exitCode !== 0) throw new Error(r.stderr);
        return performance.now() - t0;
      });
      cmd.catch(() => {});
      await pollUntil('the other content via the proxy', async () => {
        const r = await viaProxy();
        return r !== null && r.status === 200 && r.body.trim() === want;
      });
      const ms = performance.now() - t0;
      exits.push(await cmd);
      return ms;
    };

    /** RUNS rollbacks alternating with swaps by hand, after one untimed warm-up of each; the paas times and exits. */
    const section = async (name: string) => {
      await byHand();
      await viaPaas();
      exits.length = 0;
      const load = await waitForQuiet(`rollback ${name}`);
      const hand: number[] = [];
      const ours: number[] = [];
      for (let i = 0; i < RUNS; i++) {
        const [a, b] = await alternating(i, byHand, viaPaas);
        hand.push(a);
        ours.push(b);
        await sleep(1000);
      }
      return { hand, ours, exits: exits.splice(0), load };
    };
    // warm: the default keep-warm window (each rollback thaws the other release, paused by the one before)
    const warm = await section('warm');
    const keepOff = await paas.ssh(`releases:set ${APP} keep-warm 0`);
    if (keepOff.exitCode !== 0) throw new Error(keepOff.stderr);
    const cold = await section('cold');
    const cond = (load: string) =>
      `${plural(RUNS, 'run')} each after 1 warm-up, alternating order; ${load}; old container removal untimed on both sides`;
    for (const [name, s, how, target] of [
      ['warm', warm, 'the paused web container of the other release thawed (default keep-warm 10m)', 'paas < 0.3 s'],
      ['cold', cold, '`releases:set keep-warm 0`: containers started, as before keep-warm', 'paas < 5 s'],
    ] as const) {
      res.add({
        figure: `rollback, ${name}: until the other release is served`,
        paas: `\`releases:rollback\`, GET via the proxy every 20 ms: ${fmtStats(s.ours, 's', 2, 1000)}; ${how}`,
        reference: `${HAND_RUN_OPTIONS.replace('--network paas ', `--network ${NETWORK} `)} of the other image + GET on the container every 20 ms: ${fmtStats(s.hand, 's', 2, 1000)}`,
        ratio: ratio(median(s.ours), median(s.hand)),
        conditions: `${cond(s.load)}; target: ${target}`,
      });
    }
    res.add({
      figure: 'rollback: warm against cold, until the other release is served',
      paas: `warm ${fmtStats(warm.ours, 's', 2, 1000)}`,
      reference: `cold ${fmtStats(cold.ours, 's', 2, 1000)}`,
      ratio: ratio(median(warm.ours), median(cold.ours)),
      conditions: 'the paas runs above',
    });
    res.add({
      figure: 'rollback: until `releases:rollback` exits (warm: the rolled-away release paused; cold: its container stopped)',
      paas: `warm ${fmtStats(warm.exits, 's', 2, 1000)}`,
      reference: `cold ${fmtStats(cold.exits, 's', 2, 1000)}`,
      ratio: '',
      conditions: `the same ${plural(RUNS, 'paas run')} each; both include the stability window (checks wait, 2 s)`,
    });
    res.write();
  } finally {
    await handRemove(handLive);
    await paas.destroy();
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
