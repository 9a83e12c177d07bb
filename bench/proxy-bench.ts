/**
 * `npm run bench proxy [-- --duration 10 --connections 50 --runs 3 --pair-runs 16 --limit-runs 8 --workers N]`: the paas proxy (compiled
 * dist/, `paas proxy` as the control plane starts it) against the bare Node proxy
 * (bench/bare-node-proxy.cjs, the ceiling of Node's HTTP stack, with as many processes sharing
 * connections as paas's do) and nginx, in front of the same upstream with the same worker count,
 * measured with wrk; memory of a fresh process and after load, and per 1,000 idle keep-alive
 * connections on all three; route swap time for 100 services.
 *
 * Fairness: the proxies are started side by side for a worker count, all get the same untimed
 * warm-up wrk run, then the measured runs rotate the order (direct, nginx, paas, paas without
 * limits, bare), and paas and the bare proxy then run alternated in pairs of short runs: the
 * ratios the targets are read on, since the shared VM's speed drifts between rotated runs that
 * stand a minute apart. The memory figures are taken on each before any load (fresh) and again after the runs.
 * Traffic goes only to 127.0.0.1. Each section first waits (at most 3 min) for a quiet machine.
 * Request metrics and the access log are measured on against off (PAAS_PROXY_METRICS=off) in the
 * same run; `-- --metrics-ab [--ab-runs N --ab-seconds S --quiet-wait S]` runs only that A/B.
 */
import { type ChildProcess, spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import {
  control,
  freePort,
  pinTree,
  procs,
  start as startIn,
  startBenchProxy,
  stop,
  treeTicks,
  type WrkResult,
  wrk as wrkUrl,
} from './bench-procs.js';
import { fmtStats, median, plural, ratio, Results, sleep, treeRssKb, waitForQuiet } from './bench-stats.js';

const root = path.resolve(import.meta.dirname, '..');
const arg = (n: string, d: number) => {
  const i = process.argv.indexOf(`--${n}`);
  return i === -1 ? d : Number(process.argv[i + 1]);
};
const DURATION = arg('duration', 10);
const CONNS = arg('connections', 50);
const RUNS = arg('runs', 3);
const IDLE = 1000;
const IDLE_ROUNDS = 3;
const LIMIT_RUNS = arg('limit-runs', 8);
/** `--workers 1`: only that worker count (default: 1 and one per core) */
const ONLY_WORKERS = arg('workers', 0);
const LIMIT_SECONDS = 5;
/** paas and the bare proxy alternated in pairs of short runs (a b, b a, ...): the figures the targets are read on */
const PAIR_RUNS = arg('pair-runs', 16);
const PAIR_SECONDS = 5;
const cores = os.availableParallelism();
const tmp = mkdtempSync(path.join(os.tmpdir(), 'paas-proxy-bench-'));
// the proxy drops root to its own user (paas-proxy), which must reach the data dirs below
chmodSync(tmp, 0o755);
const start = (cmd: string, args: string[]) => startIn(cmd, args, root);
/** with 1 worker on 2+ cores: the proxies on core 0, wrk and the upstream on core 1 (set per section) */
let loadCpus: string | undefined;
const wrk = (port: number, seconds = DURATION) =>
  wrkUrl(`http://127.0.0.1:${port}/`, { connections: CONNS, seconds, ...(loadCpus ? { cpus: loadCpus } : {}) });

async function waitHttp(port: number, host = '127.0.0.1'): Promise<void> {
  for (let i = 0; i < 200; i++) {
    const ok = await new Promise((resolve) => {
      const req = http.get({ host: '127.0.0.1', port, path: '/', headers: { host }, agent: false }, (res) => {
        res.resume();
        resolve(res.statusCode === 200);
      });
      req.on('error', () => resolve(false));
    });
    if (ok) return;
    await sleep(100);
  }
  throw new Error(`nothing answered 200 on port ${port}`);
}

interface Side {
  name: string;
  port: number;
  pid: number;
  child: ChildProcess | null;
  sock?: string;
}

/**
 * `paas proxy` from dist/, as the control plane runs it, with one route to the upstream. The
 * per-address connection cap is raised above the idle-connection count (every bench connection
 * comes from 127.0.0.1); `limits: false` runs the same build without its edge limits
 * (PAAS_PROXY_BENCH_NO_LIMITS) to measure what they cost.
 */
async function startPaas(workers: number, upstreamPort: number, limits = true, metrics = true): Promise<Side> {
  const env = { ...(limits ? {} : { PAAS_PROXY_BENCH_NO_LIMITS: '1' }), ...(metrics ? {} : { PAAS_PROXY_METRICS: 'off' }) };
  const p = await startBenchProxy({ dist: path.join(root, 'dist'), cwd: root, tmp, workers, upstreamPort, env });
  await waitHttp(p.port);
  return { name: !limits ? 'paas-no-limits' : metrics ? 'paas' : 'paas-no-metrics', ...p };
}

/**
 * bench/bare-node-proxy.cjs: what Node's own HTTP server and client cost, with nothing of paas;
 * with more than one worker, processes that share connections as paas's do (the primary serves
 * as one lane and hands the others their connections over IPC).
 */
async function startBareNode(workers: number, upstreamPort: number, forward = false): Promise<Side> {
  const port = await freePort();
  const script = path.join(root, 'bench', 'bare-node-proxy.cjs');
  const child = start(process.execPath, [script, String(port), String(upstreamPort), String(workers), forward ? 'forward' : 'plain']);
  await waitHttp(port);
  return { name: forward ? 'bare-node-forward' : 'bare-node', port, pid: child.pid!, child };
}

async function startNginx(workers: number, upstreamPort: number): Promise<Side> {
  const port = await freePort();
  const dir = mkdtempSync(path.join(tmp, 'nginx-'));
  const conf = `worker_processes ${workers};
daemon off;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log;
events { worker_connections 4096; }
http {
  access_log off;
  upstream app { server 127.0.0.1:${upstreamPort}; keepalive 256; }
  server {
    listen 127.0.0.1:${port};
    location / {
      proxy_pass http://app;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header Host $host;
      proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
      proxy_set_header X-Forwarded-Proto $scheme;
      proxy_set_header X-Forwarded-Host $host;
    }
  }
}
`;
  writeFileSync(path.join(dir, 'nginx.conf'), conf);
  const child = start('nginx', ['-c', path.join(dir, 'nginx.conf'), '-p', dir]);
  await waitHttp(port);
  return { name: 'nginx', port, pid: child.pid!, child };
}

/**
 * The process tree's RSS (KiB) once it holds still: three samples 1 s apart within 1 MiB of each
 * other (at most 20 s). After load a Node heap shrinks for a while, which would otherwise show up
 * as a negative cost per connection.
 */
async function settledRssKb(pid: number, maxMs = 20_000): Promise<number> {
  const deadline = Date.now() + maxMs;
  const samples = [treeRssKb(pid)];
  while (Date.now() < deadline) {
    await sleep(1000);
    samples.push(treeRssKb(pid));
    const last = samples.slice(-3);
    if (last.length === 3 && Math.max(...last) - Math.min(...last) <= 1024) break;
  }
  return samples[samples.length - 1];
}

/**
 * RSS (MiB) of the process tree before and while `n` keep-alive connections, one request each, sit
 * idle. A connection the proxy closes before the measurement ends (a keep-alive timeout shorter
 * than it) would make the figure a cost of fewer connections: that fails the bench.
 */
async function idleConnectionsMb(port: number, pid: number, n = IDLE): Promise<{ before: number; after: number }> {
  const before = await settledRssKb(pid);
  const sockets: net.Socket[] = [];
  let closed = 0;
  try {
    for (let i = 0; i < n; i++) {
      const s = net.connect(port, '127.0.0.1');
      sockets.push(s);
      await new Promise((r, j) => {
        s.once('connect', r);
        s.once('error', j);
      });
      s.write('GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n');
      s.on('data', () => {});
      s.once('close', () => closed++);
    }
    const after = (await settledRssKb(pid, 10_000)) / 1024;
    if (closed > 0) throw new Error(`${closed} of ${n} idle connections were closed by the proxy (pid ${pid}) while they were measured`);
    return { before: before / 1024, after };
  } finally {
    for (const s of sockets) s.destroy();
    await sleep(500);
  }
}

interface Memory {
  rss: number;
  perIdle: { before: number; after: number };
}

async function memory(side: Side, rounds = IDLE_ROUNDS): Promise<Memory> {
  const rss = (await settledRssKb(side.pid)) / 1024;
  // a Node heap grows in steps, so one measurement can land on a GC or a heap expansion: the median of the rounds
  const perIdle: Array<{ before: number; after: number }> = [];
  for (let i = 0; i < rounds; i++) perIdle.push(await idleConnectionsMb(side.port, side.pid));
  return { rss, perIdle: medianRound(perIdle) };
}

const medianRound = (rounds: Array<{ before: number; after: number }>) =>
  [...rounds].sort((x, y) => x.after - x.before - (y.after - y.before))[Math.floor(rounds.length / 2)];

/**
 * Memory of fresh processes: IDLE_ROUNDS fresh instances of each side, one idle-connection round
 * each, the median. A second round on the same instance measures how much of the heap the first
 * round's closed connections left behind is reused, not what connections cost: those rounds put
 * paas between 0.36x and 2.04x the bare proxy from one run to the next, while first rounds on fresh
 * instances of one build stay within about 1 MiB of each other.
 */
async function freshMemory(start: () => Promise<Record<'nginx' | 'paas' | 'bare', Side>>) {
  const got: Record<'nginx' | 'paas' | 'bare', Memory[]> = { nginx: [], paas: [], bare: [] };
  for (let i = 0; i < IDLE_ROUNDS; i++) {
    const sides = await start();
    await sleep(1000);
    const names = Object.keys(got) as Array<keyof typeof got>;
    for (let k = 0; k < names.length; k++) {
      const name = names[(i + k) % names.length];
      got[name].push(await memory(sides[name], 1));
    }
    for (const side of Object.values(sides)) await stop(side.child!);
  }
  const pick = (ms: Memory[]): Memory => ({ rss: median(ms.map((m) => m.rss)), perIdle: medianRound(ms.map((m) => m.perIdle)) });
  return { nginx: pick(got.nginx), paas: pick(got.paas), bare: pick(got.bare) };
}

const fmt = (x: number, d = 0) => (Number.isFinite(x) ? x.toFixed(d) : '-');
const mean = (xs: number[]) => xs.reduce((a, x) => a + x, 0) / xs.length;

/** One wrk run with the side's CPU per request (µs of its process tree, user + system, over the requests wrk counted). */
interface Measured extends WrkResult {
  cpu: number;
}

function measured(side: Side, seconds: number): Measured {
  const t0 = treeTicks(side.pid);
  const r = wrk(side.port, seconds);
  return { ...r, cpu: ((treeTicks(side.pid) - t0) * 10_000) / (r.rps * seconds) };
}

/**
 * `runs` wrk runs of `seconds` on each of `a` and `b`, alternated in pairs (a b, b a, a b, ...),
 * so each run of one has a run of the other next to it in time: the machine's own drift (the
 * shared VM's speed moves by 10-20% over a minute) falls on both alike.
 */
function alternated(a: Side, b: Side, runs: number, seconds: number): { a: Measured[]; b: Measured[] } {
  const out: Measured[][] = [[], []];
  for (let i = 0; i < runs; i++) for (const k of i % 2 === 0 ? [0, 1] : [1, 0]) out[k].push(measured([a, b][k], seconds));
  return { a: out[0], b: out[1] };
}

/** Metrics and access log on (`ab.a`) against the same build with them off (PAAS_PROXY_METRICS=off, `ab.b`), alternated. */
function metricsFigure(res: Results, workers: number, ab: { a: WrkResult[]; b: WrkResult[] }, runs: number, seconds: number): void {
  const { a: on, b: off } = ab;
  const rps = (rs: WrkResult[]) => rs.map((r) => r.rps);
  const p99 = (rs: WrkResult[]) => rs.map((r) => r.p99);
  res.add({
    figure: `cost of request metrics and the access log, ${workers} worker(s)`,
    paas: `metrics on ${fmtStats(rps(on), 'req/s', 0)}, mean ${fmt(mean(rps(on)))}; p99 ${fmtStats(p99(on), 'ms', 2)}`,
    reference: `same build with PAAS_PROXY_METRICS=off ${fmtStats(rps(off), 'req/s', 0)}, mean ${fmt(mean(rps(off)))}; p99 ${fmtStats(p99(off), 'ms', 2)}`,
    ratio: ratio(mean(rps(on)), mean(rps(off))),
    conditions: `${runs} runs each of wrk -t2 -c${CONNS} -d${seconds}s, alternated in pairs; ratio of the means; target ≥ 0.97x`,
  });
}

/** `--metrics-ab`: only the metrics A/B, at 1 worker and at one per core (`--ab-runs`, `--ab-seconds`). */
async function metricsAbOnly(): Promise<void> {
  const res = new Results('proxy-metrics', 'proxy throughput with request metrics and the access log on against off');
  const upstreamPort = await freePort();
  start(process.execPath, ['-e', `require('http').createServer((q,s)=>s.end('hello world\\n')).listen(${upstreamPort},'127.0.0.1')`]);
  await waitHttp(upstreamPort);
  const runs = arg('ab-runs', LIMIT_RUNS);
  const seconds = arg('ab-seconds', LIMIT_SECONDS);
  for (const workers of [...new Set([1, cores])]) {
    await waitForQuiet(`proxy metrics A/B, ${workers} worker(s)`, 1.0, arg('quiet-wait', 180) * 1000);
    const on = await startPaas(workers, upstreamPort);
    const off = await startPaas(workers, upstreamPort, true, false);
    wrk(on.port, 1);
    wrk(off.port, 1);
    metricsFigure(res, workers, alternated(on, off, runs, seconds), runs, seconds);
    await stop(on.child!);
    await stop(off.child!);
  }
  res.write();
}

async function main() {
  const res = new Results('proxy', 'reverse proxy throughput, latency and memory against nginx');
  const upstreamPort = await freePort();
  const upstreamSrc = `require('http').createServer((q,s)=>{s.setHeader('content-type','text/plain');s.end('hello world\\n')}).listen(${upstreamPort},'127.0.0.1').keepAliveTimeout=65000`;
  const upstreamChild = start(process.execPath, ['-e', upstreamSrc]);
  await waitHttp(upstreamPort);
  const nginxVersion = spawnSync('nginx', ['-v'], { encoding: 'utf8' }).stderr.trim();
  const upstream = 'upstream: node http server, 12-byte body, keep-alive';
  const load0 = `wrk -t2 -c${CONNS} -d${DURATION}s keep-alive`;
  console.log(`# proxy bench: ${load0}; ${plural(RUNS, 'run')}; ${cores} cores; node ${process.version}; ${nginxVersion}`);
  let swap: Awaited<ReturnType<typeof swapBench>> | null = null;
  for (const workers of ONLY_WORKERS > 0 ? [ONLY_WORKERS] : [...new Set([1, cores])]) {
    const load = await waitForQuiet(`proxy, ${workers} worker(s)`);
    // fresh memory on instances of their own: its idle-connection rounds (3 x 1,000 connections)
    // left the measured processes slower for the throughput runs that followed, and the bare
    // proxy with the headers (never measured) came out 1.18x the plain one
    const fresh = await freshMemory(async () => ({
      nginx: await startNginx(workers, upstreamPort),
      paas: await startPaas(workers, upstreamPort),
      bare: await startBareNode(workers, upstreamPort),
    }));
    const nginx = await startNginx(workers, upstreamPort);
    const paas = await startPaas(workers, upstreamPort);
    const noLimits = await startPaas(workers, upstreamPort, false);
    const noMetrics = await startPaas(workers, upstreamPort, true, false);
    const bare = await startBareNode(workers, upstreamPort);
    const bareFwd = await startBareNode(workers, upstreamPort, true);
    // 1 worker on 2+ cores: where the scheduler happens to put each process (sharing a core with
    // wrk or the upstream, or not) stays for the whole section and moved the ratios by up to 20%
    // between runs; so every proxy gets core 0 and the load (wrk, the upstream) core 1
    const pinned = workers === 1 && cores >= 2;
    const all = `0-${cores - 1}`;
    for (const side of [nginx, paas, noLimits, noMetrics, bare, bareFwd]) pinTree(side.pid, pinned ? '0' : all);
    pinTree(upstreamChild.pid!, pinned ? '1' : all);
    loadCpus = pinned ? '1' : undefined;
    await sleep(1000);
    // the same untimed warm-up for all (JIT, pools, nginx's upstream keep-alive cache)
    wrk(nginx.port);
    wrk(paas.port);
    wrk(noLimits.port);
    wrk(noMetrics.port);
    wrk(bare.port);
    wrk(bareFwd.port);
    const sides: Side[] = [{ name: 'direct', port: upstreamPort, pid: 0, child: null }, nginx, paas, noLimits, bare, bareFwd];
    const runs: WrkResult[][] = sides.map(() => []);
    /** µs of the side's CPU (its process tree, user + system) per request, per run */
    const cpu: number[][] = sides.map(() => []);
    for (let i = 0; i < RUNS; i++) {
      for (let k = 0; k < sides.length; k++) {
        const j = (i + k) % sides.length;
        const t0 = sides[j].pid ? treeTicks(sides[j].pid) : 0;
        const r = wrk(sides[j].port);
        if (sides[j].pid) cpu[j].push(((treeTicks(sides[j].pid) - t0) * 10_000) / (r.rps * DURATION));
        if (r.non2xx || r.errors) console.log(`  ${sides[j].name} run ${i}: ${r.non2xx} non-2xx ${r.errors}`);
        runs[j].push(r);
      }
    }
    const paired = alternated(paas, bare, PAIR_RUNS, PAIR_SECONDS);
    // the limits' cost is a few percent at most, under the spread of 10 s runs: more, shorter runs, alternated pairwise
    const limits = alternated(paas, noLimits, LIMIT_RUNS, LIMIT_SECONDS);
    const ab = alternated(paas, noMetrics, LIMIT_RUNS, LIMIT_SECONDS);
    await sleep(1000);
    const after = { nginx: await memory(nginx), paas: await memory(paas), bare: await memory(bare) };
    if (workers === 1) swap = await swapBench(paas.sock!, upstreamPort);
    await stop(nginx.child!);
    await stop(paas.child!);
    await stop(noLimits.child!);
    await stop(noMetrics.child!);
    await stop(bare.child!);
    await stop(bareFwd.child!);

    const [d, n, p, nl, b, bf] = runs;
    const rps = (rs: WrkResult[]) => rs.map((r) => r.rps);
    const p99 = (rs: WrkResult[]) => rs.map((r) => r.p99);
    const errs = [...n, ...p, ...b].reduce((s, r) => s + r.non2xx, 0);
    const pinning = pinned ? '; every proxy pinned to core 0, wrk and the upstream to core 1 (taskset)' : '';
    const cond = `${upstream}; ${workers} worker(s) each; ${load0}; ${plural(RUNS, 'run')} each after 1 warm-up run each, order rotated; ${load}; non-2xx ${errs}${pinning}`;
    const bareIs =
      workers === 1
        ? "bench/bare-node-proxy.cjs, http.createServer + a keep-alive http.Agent and nothing else, the ceiling of any proxy on Node's HTTP stack"
        : `bench/bare-node-proxy.cjs with ${workers} processes: the primary accepts, serves one lane and hands connections round-robin to the other ${workers - 1} over IPC, as paas does`;
    const [pp, pb] = [paired.a, paired.b];
    const cpuOf = (rs: Measured[]) => rs.map((r) => r.cpu);
    const pairRatios = (f: (r: Measured) => number) => pp.map((r, i) => f(r) / f(pb[i]));
    const pairCond = `${plural(PAIR_RUNS, 'run')} each of wrk -t2 -c${CONNS} -d${PAIR_SECONDS}s, alternated in pairs (paas bare, bare paas, ...) right after the rotated runs, so each paas run has a bare one next to it in time`;
    res.add({
      figure: `proxy req/s against the bare Node proxy, alternated pairs, ${workers} worker(s)`,
      paas: `${fmtStats(rps(pp), 'req/s', 0)}, mean ${fmt(mean(rps(pp)))}`,
      reference: `bare Node proxy ${fmtStats(rps(pb), 'req/s', 0)}, mean ${fmt(mean(rps(pb)))}`,
      ratio: ratio(mean(rps(pp)), mean(rps(pb))),
      conditions: `${pairCond}; ratio of the means; the pairs' own ratios ${fmtStats(
        pairRatios((r) => r.rps),
        'x',
        2,
      )}; ${load}${pinning}; target ≥ 0.95x`,
    });
    res.add({
      figure: `proxy CPU per request against the bare Node proxy, alternated pairs, ${workers} worker(s)`,
      paas: `${fmtStats(cpuOf(pp), 'µs', 1)}, mean ${fmt(mean(cpuOf(pp)), 1)}`,
      reference: `bare Node proxy ${fmtStats(cpuOf(pb), 'µs', 1)}, mean ${fmt(mean(cpuOf(pb)), 1)}`,
      ratio: ratio(mean(cpuOf(pp)), mean(cpuOf(pb))),
      conditions: `the same pairs; user + system CPU of the proxy processes (/proc) over the requests wrk counted; ratio of the means; the pairs' own ratios ${fmtStats(
        pairRatios((r) => r.cpu),
        'x',
        2,
      )}`,
    });
    res.add({
      figure: `proxy p99 latency against the bare Node proxy, alternated pairs, ${workers} worker(s)`,
      paas: fmtStats(p99(pp), 'ms', 2),
      reference: `bare Node proxy ${fmtStats(p99(pb), 'ms', 2)}`,
      ratio: ratio(median(p99(pp)), median(p99(pb))),
      conditions: `the same pairs; ratio of the medians (one run's p99 can hold a machine stall); p50 paas ${fmt(median(pp.map((r) => r.p50)), 2)} ms, bare ${fmt(median(pb.map((r) => r.p50)), 2)} ms; target ≤ 1.1x`,
    });
    const rotated = `the rotated runs put about ${(sides.length - 1) * DURATION} s between a paas run and a bare one, and the machine's speed drifts that much (the bare proxy's own CPU per request spreads as wide): the targets are read on the alternated pairs above`;
    res.add({
      figure: `proxy req/s against the bare Node proxy, rotated runs, ${workers} worker(s)`,
      paas: fmtStats(rps(p), 'req/s', 0),
      reference: `bare Node proxy ${fmtStats(rps(b), 'req/s', 0)}`,
      ratio: ratio(median(rps(p)), median(rps(b))),
      conditions: `${cond}; bare Node proxy: ${bareIs}; ${rotated}`,
    });
    const [, , cp, , cb, cbf] = cpu;
    res.add({
      figure: `proxy CPU per request against the bare Node proxy, rotated runs, ${workers} worker(s)`,
      paas: fmtStats(cp, 'µs', 1),
      reference: `bare Node proxy ${fmtStats(cb, 'µs', 1)}; with paas's forwarding headers ${fmtStats(cbf, 'µs', 1)}`,
      ratio: ratio(median(cp), median(cb)),
      conditions:
        'the same runs; user + system CPU of the proxy processes (/proc) over the requests wrk counted; a ratio near 1 with a lower req/s means the proxy waited, not worked',
    });
    res.add({
      figure: `proxy p99 latency against the bare Node proxy, rotated runs, ${workers} worker(s)`,
      paas: fmtStats(p99(p), 'ms', 2),
      reference: `bare Node proxy ${fmtStats(p99(b), 'ms', 2)}`,
      ratio: ratio(median(p99(p)), median(p99(b))),
      conditions: `the same runs; p50 paas ${fmt(median(p.map((r) => r.p50)), 2)} ms, bare ${fmt(median(b.map((r) => r.p50)), 2)} ms`,
    });
    res.add({
      figure: `proxy req/s against the bare Node proxy sending paas's forwarding headers, ${workers} worker(s)`,
      paas: fmtStats(rps(p), 'req/s', 0),
      reference: `bare Node proxy with X-Forwarded-Proto/Host, X-Real-IP, X-Request-Id ${fmtStats(rps(bf), 'req/s', 0)} (${ratio(median(rps(bf)), median(rps(b)))} the plain bare proxy)`,
      ratio: ratio(median(rps(p)), median(rps(bf))),
      conditions: `the same runs; what is left once the four forwarding header lines paas sends (the product's contract and README) are on both sides: writing them and the upstream parsing them is the reference's own ratio to the plain bare proxy; p99 paas ${fmt(median(p99(p)), 2)} ms, bare with the headers ${fmt(median(p99(bf)), 2)} ms`,
    });
    res.add({
      figure: `proxy req/s, ${workers} worker(s)`,
      paas: fmtStats(rps(p), 'req/s', 0),
      reference: `nginx ${fmtStats(rps(n), 'req/s', 0)}; direct to upstream ${fmtStats(rps(d), 'req/s', 0)}; bare Node proxy ${fmtStats(rps(b), 'req/s', 0)} (${ratio(median(rps(b)), median(rps(n)))} nginx)`,
      ratio: ratio(median(rps(p)), median(rps(n))),
      conditions: `the same runs; target ≥ 0.75x`,
    });
    const [lp, lnl] = [limits.a, limits.b];
    metricsFigure(res, workers, ab, LIMIT_RUNS, LIMIT_SECONDS);
    res.add({
      figure: `cost of the edge limits, ${workers} worker(s)`,
      paas: `with limits ${fmtStats(rps(lp), 'req/s', 0)}, mean ${fmt(mean(rps(lp)))}`,
      reference: `same build without them (PAAS_PROXY_BENCH_NO_LIMITS=1) ${fmtStats(rps(lnl), 'req/s', 0)}, mean ${fmt(mean(rps(lnl)))}`,
      ratio: ratio(mean(rps(lp)), mean(rps(lnl))),
      conditions: `${LIMIT_RUNS} runs each of wrk -t2 -c${CONNS} -d${LIMIT_SECONDS}s, alternated in pairs, after the runs above (3 runs of 10 s: with ${fmt(median(rps(p)))}, without ${fmt(median(rps(nl)))} req/s); ratio of the means; limits: idle and header timeouts, connection caps (global, per address), upstream wait deadline; target ≥ 0.95x`,
    });
    res.add({
      figure: `proxy p99 latency, ${workers} worker(s)`,
      paas: fmtStats(p99(p), 'ms', 2),
      reference: `nginx ${fmtStats(p99(n), 'ms', 2)}; direct ${fmtStats(p99(d), 'ms', 2)}`,
      ratio: ratio(median(p99(p)), median(p99(n))),
      conditions: `the same runs; p50 paas ${fmt(median(p.map((r) => r.p50)), 2)} ms, nginx ${fmt(median(n.map((r) => r.p50)), 2)} ms; target ≤ 1.3x`,
    });
    res.add({
      figure: `proxy RSS (all processes), ${workers} worker(s)`,
      paas: `${fmt(fresh.paas.rss, 1)} MiB fresh, ${fmt(after.paas.rss, 1)} MiB after load`,
      reference: `nginx ${fmt(fresh.nginx.rss, 1)} MiB fresh, ${fmt(after.nginx.rss, 1)} MiB after load; bare Node proxy ${fmt(fresh.bare.rss, 1)} MiB fresh, ${fmt(after.bare.rss, 1)} MiB after load`,
      ratio: `${ratio(fresh.paas.rss, fresh.nginx.rss)} / ${ratio(after.paas.rss, after.nginx.rss)}`,
      conditions: `fresh: the median of ${IDLE_ROUNDS} fresh instances (started, one route, a few requests); after load: after the last wrk run; each once RSS held still (3 samples 1 s apart within 1 MiB, at most 20 s); ${workers} worker(s) = ${workers} process(es) (the primary serves as one); ratio against nginx; target with 2 workers ≤ 130 MB (124 MiB)`,
    });
    // a negative growth after load: the connections' allocations set off a GC that gave back heap grown under load
    const growth = (m: Memory) => m.perIdle.after - m.perIdle.before;
    const idle = (m: Memory) => {
      const d = growth(m);
      return `${d >= 0 ? '+' : ''}${fmt(d, 1)} MiB (${fmt(m.perIdle.before, 1)} → ${fmt(m.perIdle.after, 1)})`;
    };
    const idleRatio = (m: Memory, ref: Memory) =>
      growth(m) > 0 && growth(ref) > 0 ? ratio(growth(m), growth(ref)) : '- (a GC during the measurement)';
    const idleHow = `RSS of the process tree before → with ${IDLE} connections open (one GET each), each once RSS held still; fresh: one round on each of ${IDLE_ROUNDS} fresh instances, the median (a later round on one instance measures how much heap the round before left behind is reused); after load: the median of ${IDLE_ROUNDS} rounds on the loaded instance; paas's per-address cap raised to ${IDLE * 4} for it; ratio on the fresh figures (after load a heap grown under load absorbs or even gives back memory, so only the fresh figure is a cost per connection)`;
    res.add({
      figure: `memory per ${IDLE.toLocaleString('en')} idle keep-alive connections against the bare Node proxy, ${workers} worker(s)`,
      paas: `fresh ${idle(fresh.paas)}; after load ${idle(after.paas)}`,
      reference: `bare Node proxy fresh ${idle(fresh.bare)}; after load ${idle(after.bare)}`,
      ratio: idleRatio(fresh.paas, fresh.bare),
      conditions: `${idleHow}; target ≤ 1.5x`,
    });
    res.add({
      figure: `memory per ${IDLE.toLocaleString('en')} idle keep-alive connections, ${workers} worker(s)`,
      paas: `fresh ${idle(fresh.paas)}; after load ${idle(after.paas)}`,
      reference: `nginx fresh ${idle(fresh.nginx)}; after load ${idle(after.nginx)}`,
      ratio: idleRatio(fresh.paas, fresh.nginx),
      conditions: `the same measurement; target ≤ 2x`,
    });
  }
  if (swap) {
    res.add({
      figure: 'route swap, 100 services (decision → persisted + applied in all workers)',
      paas: `mean ${fmt(swap.applied.mean, 3)} ms, p99 ${fmt(swap.applied.p99, 3)} ms`,
      reference: '',
      ratio: '',
      conditions: '1 worker, after the load runs; the proxy reports swapMs; target < 1 ms',
    });
    res.add({
      figure: 'route swap, client PUT round trip (no health-check wait)',
      paas: `hosts change mean ${fmt(swap.hosts.mean, 3)} ms (p99 ${fmt(swap.hosts.p99, 3)}); target removal incl. drain of an idle target mean ${fmt(swap.remove.mean, 3)} ms (p99 ${fmt(swap.remove.p99, 3)})`,
      reference: '',
      ratio: '',
      conditions: '1 worker, 100 services, over the control socket',
    });
  }
  res.note(
    `${nginxVersion}; nginx keeps up to 256 idle upstream connections; the paas route has an active health check every 100 ms, nginx none. wrk, the upstream and the proxy share the ${cores} cores.`,
  );
  res.write();
}

async function swapBench(sock: string, upstreamPort: number) {
  // a second healthy target, idle, served from this process
  const second = http.createServer((_q, s) => s.end('ok'));
  await new Promise<void>((r) => second.listen(0, '127.0.0.1', r));
  const a = `127.0.0.1:${upstreamPort}`;
  const b = `127.0.0.1:${(second.address() as net.AddressInfo).port}`;
  const spec = (hosts: string[], targets: string[]) => ({ hosts, targets, healthCheck: { path: '/', intervalMs: 100 } });
  for (let i = 0; i < 100; i++) await control(sock, 'PUT', `/services/s${i}`, spec([`s${i}.bench`], [a, b]));
  const stat = (xs: number[]) => {
    xs.sort((x, y) => x - y);
    return { mean: xs.reduce((p, x) => p + x, 0) / xs.length, p99: xs[Math.floor(xs.length * 0.99) - 1] ?? xs[xs.length - 1] };
  };
  const hosts: number[] = [];
  const remove: number[] = [];
  const applied: number[] = [];
  for (let i = 0; i < 100; i++) {
    let t = process.hrtime.bigint();
    const r = await control(sock, 'PUT', `/services/s${i}`, spec([`s${i}.bench`, `www.s${i}.bench`], [a, b]));
    applied.push(r.swapMs as number);
    hosts.push(Number(process.hrtime.bigint() - t) / 1e6);
    t = process.hrtime.bigint();
    await control(sock, 'PUT', `/services/s${i}`, spec([`s${i}.bench`, `www.s${i}.bench`], [a]));
    remove.push(Number(process.hrtime.bigint() - t) / 1e6);
  }
  second.closeAllConnections();
  second.close();
  return { hosts: stat(hosts), remove: stat(remove), applied: stat(applied) };
}

async function cleanup() {
  for (const p of procs) await stop(p).catch(() => {});
  rmSync(tmp, { recursive: true, force: true });
}

const watchdog = setTimeout(
  () => {
    console.error('bench: timed out');
    cleanup().then(() => process.exit(1));
  },
  (14 + (2 * ((RUNS * 6 + 5) * DURATION + LIMIT_RUNS * 4 * LIMIT_SECONDS + PAIR_RUNS * 2 * PAIR_SECONDS)) / 60) * 60_000,
);

(process.argv.includes('--metrics-ab') ? metricsAbOnly() : main())
  .then(cleanup, async (err) => {
    console.error(err);
    await cleanup();
    process.exitCode = 1;
  })
  .finally(() => clearTimeout(watchdog));
