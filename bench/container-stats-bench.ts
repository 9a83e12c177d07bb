/**
 * `npm run bench container-stats [-- --containers 10 --seconds 20 --every 15]`: what reading
 * container figures costs. N busybox containers run idle; for `--seconds` each, the CPU time of
 * the Docker engine (dockerd and containerd) and of this process is measured with nothing reading,
 * with a `docker stats`-style stream open per container (what an agent that streams does), and
 * with paas's way: one one-shot reading of every container every `--every` seconds (a Prometheus
 * scrape interval), through src/runtime/container-usage.ts. Also the time one sampling of all N
 * takes. Writes bench/results/container-stats.md. Seen on dockerd 20.10: a one-shot reading
 * answers at once, unless another reading of the same container was asked within about a second
 * (it then waits for the engine's next 1 s collection tick).
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import Dockerode from 'dockerode';
import { containerUsage } from '../src/runtime/container-usage.js';
import { cpuSeconds, removeContainers, startIdleContainers } from './idle-containers.js';
import { fmtStats, median, Results, sleep } from './bench-stats.js';

const arg = (n: string, d: number) => {
  const i = process.argv.indexOf(`--${n}`);
  return i === -1 ? d : Number(process.argv[i + 1]);
};
const N = arg('containers', 10);
const SECONDS = arg('seconds', 20);
const EVERY = arg('every', 15);
const LABEL = 'paas.bench.container-stats';
/** The engine's processes: the dockerd owning /var/run/docker.sock and the containerd it started (not the test nodes' own). */
function enginePids(): number[] {
  const out = execFileSync('ss', ['-xlp'], { encoding: 'utf8' });
  const line = out.split('\n').find((l) => /\s\/var\/run\/docker\.sock\s/.test(l));
  const dockerd = Number(/pid=(\d+)/.exec(line ?? '')?.[1]);
  const containerd = execFileSync('pgrep', ['-x', 'containerd'], { encoding: 'utf8' })
    .split('\n')
    .filter(Boolean)
    .map(Number)
    .filter((pid) => fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('/var/run/docker/'));
  return [dockerd, ...containerd].filter((p) => p > 0);
}

async function measure(seconds: number, during: (signal: AbortSignal) => Promise<void>): Promise<{ engine: number; self: number }> {
  const pids = enginePids();
  const e0 = pids.reduce((s, p) => s + cpuSeconds(p), 0);
  const s0 = process.cpuUsage();
  const ctl = new AbortController();
  const running = during(ctl.signal);
  await sleep(seconds * 1000);
  ctl.abort();
  await running.catch(() => {});
  const e1 = pids.reduce((s, p) => s + cpuSeconds(p), 0);
  const s1 = process.cpuUsage(s0);
  return { engine: ((e1 - e0) / seconds) * 100, self: ((s1.user + s1.system) / 1e6 / seconds) * 100 };
}

async function main() {
  const docker = new Dockerode({ socketPath: '/var/run/docker.sock' });
  const ids: string[] = [];
  try {
    ids.push(...(await startIdleContainers(docker, N, () => ({ [LABEL]: '1' }))));
    await sleep(2000);
    const idle = await measure(SECONDS, async () => {});
    const durations: number[] = [];
    const sampling = await measure(SECONDS, async (signal) => {
      while (!signal.aborted) {
        const t = performance.now();
        await Promise.all(ids.map((id) => containerUsage(docker, id)));
        durations.push(performance.now() - t);
        await new Promise<void>((r) => {
          const timer = setTimeout(r, EVERY * 1000);
          signal.addEventListener('abort', () => {
            clearTimeout(timer);
            r();
          });
        });
      }
    });
    // the engine keeps a container's stats collector ticking for a moment after a reader left
    await sleep(5000);
    const streaming = await measure(SECONDS, async (signal) => {
      const streams = await Promise.all(ids.map((id) => docker.getContainer(id).stats({ stream: true }) as Promise<NodeJS.ReadableStream>));
      for (const s of streams) s.on('data', (d: Buffer) => JSON.parse(d.toString('utf8')));
      await new Promise<void>((r) => signal.addEventListener('abort', () => r()));
      for (const s of streams) (s as unknown as { destroy(): void }).destroy();
    });
    const res = new Results('container-stats', 'reading container figures: sampled on demand against streamed');
    const pct = (x: number) => `${x.toFixed(2)}% of a core`;
    const cond = `${N} idle busybox containers; ${SECONDS} s each; CPU of dockerd + containerd (engine) and of the reading process, from /proc; 1-min load ${os.loadavg()[0].toFixed(2)}`;
    res.add({
      figure: 'engine + reader CPU, nothing reading',
      paas: `engine ${pct(idle.engine)}, reader ${pct(idle.self)}`,
      reference: '',
      ratio: '',
      conditions: cond,
    });
    res.add({
      figure: `engine + reader CPU, one stats stream per container (${N} streams)`,
      paas: `engine ${pct(streaming.engine)}, reader ${pct(streaming.self)}`,
      reference: `idle engine ${pct(idle.engine)}`,
      ratio: '',
      conditions: cond,
    });
    res.add({
      figure: `engine + reader CPU, paas: one-shot reading of all ${N} every ${EVERY} s`,
      paas: `engine ${pct(sampling.engine)}, reader ${pct(sampling.self)}`,
      reference: `streaming: engine ${pct(streaming.engine)}, reader ${pct(streaming.self)}`,
      ratio: '',
      conditions: `${cond}; all readings at once (the engine answers them on one collection tick)`,
    });
    res.add({
      figure: `time to read all ${N} containers once (one-shot)`,
      paas: fmtStats(durations, 'ms', 0),
      reference: '',
      ratio: '',
      conditions: `median ${median(durations).toFixed(0)} ms over ${durations.length} samplings`,
    });
    res.write();
  } finally {
    await removeContainers(docker, ids);
  }
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
