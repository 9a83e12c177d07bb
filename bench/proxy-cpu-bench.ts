/**
 * `npm run bench proxy-cpu [-- --rounds 4 --seconds 5 --idle 20 --baseline DIST]`: the proxy's CPU per request and
 * req/s with 1 worker, pinned (every proxy on core 0, wrk and the upstream on core 1), against the
 * bare Node proxy (plain, and sending paas's forwarding headers) in the same rounds, order rotated.
 * Every process first sits idle for `--idle` seconds (a proxy after a deploy: health checks only),
 * and the same build also runs without the proxy's node options (proxy-node-flags.ts), which an
 * idle start put in a slow state.
 * CPU is user + system of each proxy's process (/proc) over the requests wrk counted; core 0's busy
 * share shows whether a proxy worked or waited. `--baseline DIST` adds another build (a dist/ dir
 * with node_modules reachable) for an A/B. Small and alone on its core, this is the bench that
 * tells a change on the request path apart; `npm run bench proxy` gives the full picture.
 */
import { chmodSync, mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { PROXY_NODE_FLAGS } from '../src/proxy/process/proxy-node-flags.js';
import { freePort, pinTree, procs, start, startBenchProxy, stop, treeTicks, wrk } from './bench-procs.js';
import { fmtStats, median, ratio, Results, sleep, waitForQuiet } from './bench-stats.js';

const root = path.join(path.dirname(fileURLToPath(import.meta.url)), '..');
const arg = (n: string, d: string) => {
  const i = process.argv.indexOf(`--${n}`);
  return i === -1 ? d : process.argv[i + 1]!;
};
const ROUNDS = Number(arg('rounds', '4'));
const SECONDS = Number(arg('seconds', '5'));
const BASELINE = arg('baseline', '');
const IDLE = Number(arg('idle', '20'));
const CONNS = 50;

interface Side {
  name: string;
  port: number;
  pid: number;
}

/** core 0's idle and total jiffies (/proc/stat) */
function core0(): { idle: number; all: number } {
  const f = readFileSync('/proc/stat', 'utf8')
    .split('\n')
    .find((l) => l.startsWith('cpu0 '))!
    .trim()
    .split(/\s+/)
    .slice(1)
    .map(Number);
  return { idle: f[3]! + f[4]!, all: f.reduce((a, b) => a + b, 0) };
}

async function paas(dist: string, name: string, upstreamPort: number, tmp: string, nodeFlags = PROXY_NODE_FLAGS): Promise<Side> {
  const p = await startBenchProxy({ dist, cwd: root, tmp, workers: 1, upstreamPort, nodeFlags });
  return { name, port: p.port, pid: p.pid };
}

async function main(): Promise<void> {
  const load = await waitForQuiet('proxy CPU per request');
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'paas-proxy-cpu-'));
  chmodSync(tmp, 0o755);
  const upstream = await freePort();
  const up = start(
    process.execPath,
    [
      '-e',
      `require('http').createServer((q,s)=>{s.setHeader('content-type','text/plain');s.end('hello world\\n')}).listen(${upstream},'127.0.0.1').keepAliveTimeout=65000`,
    ],
    root,
  );
  await sleep(500);
  const dist = path.join(root, 'dist');
  const sides: Side[] = [
    await paas(dist, 'paas', upstream, tmp),
    await paas(dist, `paas without ${PROXY_NODE_FLAGS.join(' ')}`, upstream, tmp, []),
  ];
  if (BASELINE) sides.push(await paas(path.resolve(BASELINE), `baseline (${BASELINE})`, upstream, tmp));
  for (const mode of ['plain', 'forward']) {
    const port = await freePort();
    const b = start(process.execPath, [path.join(root, 'bench', 'bare-node-proxy.cjs'), String(port), String(upstream), '1', mode], root);
    sides.push({ name: mode === 'plain' ? 'bare Node proxy' : "bare Node proxy with paas's forwarding headers", port, pid: b.pid! });
  }
  await sleep(IDLE * 1000);
  for (const s of sides) pinTree(s.pid, '0');
  pinTree(up.pid!, '1');
  for (const s of sides) wrk(`http://127.0.0.1:${s.port}/`, { connections: CONNS, seconds: 3, cpus: '1' });
  const got = sides.map(() => ({ us: [] as number[], rps: [] as number[], p99: [] as number[], busy: [] as number[] }));
  for (let r = 0; r < ROUNDS; r++) {
    for (let k = 0; k < sides.length; k++) {
      const j = (r + k) % sides.length;
      const t0 = treeTicks(sides[j]!.pid);
      const c0 = core0();
      const w = wrk(`http://127.0.0.1:${sides[j]!.port}/`, { connections: CONNS, seconds: SECONDS, cpus: '1' });
      const c1 = core0();
      got[j]!.us.push(((treeTicks(sides[j]!.pid) - t0) * 10_000) / (w.rps * SECONDS));
      got[j]!.rps.push(w.rps);
      got[j]!.p99.push(w.p99);
      got[j]!.busy.push(100 * (1 - (c1.idle - c0.idle) / (c1.all - c0.all)));
    }
  }
  const res = new Results('proxy-cpu', "the proxy's CPU per request and req/s, 1 worker, pinned");
  const cond = `1 worker each; every proxy pinned to core 0, wrk -t2 -c${CONNS} and the upstream (node http, 12-byte body) to core 1; ${ROUNDS} rounds of ${SECONDS} s each, order rotated, after ${IDLE} s idle (health checks every 100 ms) and a 3 s warm-up each; ${load}`;
  const bare = got[sides.length - 2]!;
  for (let j = 0; j < sides.length - 2; j++) {
    const g = got[j]!;
    res.add({
      figure: `${sides[j]!.name}: req/s against the bare Node proxy`,
      paas: fmtStats(g.rps, 'req/s', 0),
      reference: `bare Node proxy ${fmtStats(bare.rps, 'req/s', 0)}; with paas's forwarding headers ${fmtStats(got[sides.length - 1]!.rps, 'req/s', 0)}`,
      ratio: ratio(median(g.rps), median(bare.rps)),
      conditions: `${cond}; target ≥ 0.95x`,
    });
    res.add({
      figure: `${sides[j]!.name}: CPU per request`,
      paas: fmtStats(g.us, 'µs', 1),
      reference: `bare Node proxy ${fmtStats(bare.us, 'µs', 1)}; with the headers ${fmtStats(got[sides.length - 1]!.us, 'µs', 1)}`,
      ratio: ratio(median(g.us), median(bare.us)),
      conditions: `the same runs; core 0 busy ${fmtStats(g.busy, '%', 0)} (bare ${fmtStats(bare.busy, '%', 0)}): near 100% means the proxy worked, not waited`,
    });
    res.add({
      figure: `${sides[j]!.name}: p99 latency`,
      paas: fmtStats(g.p99, 'ms', 2),
      reference: `bare Node proxy ${fmtStats(bare.p99, 'ms', 2)}`,
      ratio: ratio(median(g.p99), median(bare.p99)),
      conditions: 'the same runs; target ≤ 1.1x',
    });
  }
  res.write();
}

main()
  .catch((e) => {
    console.error(e);
    process.exitCode = 1;
  })
  .finally(async () => {
    for (const p of procs) await stop(p).catch(() => {});
  });
