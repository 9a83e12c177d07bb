/**
 * Process and load helpers shared by the proxy benches (proxy, https): free ports, child processes
 * stopped at the end, the proxy's control socket, and wrk runs parsed into numbers.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';
import { PROXY_NODE_FLAGS } from '../src/proxy/process/proxy-node-flags.js';
import { proxyProcessArgs } from '../test/proxy/helpers/proxy.js';

export function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const p = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(p));
    });
  });
}

/** Every child a bench starts, so cleanup stops them all. */
export const procs: ChildProcess[] = [];

export function start(cmd: string, args: string[], cwd: string, env: Record<string, string> = {}): ChildProcess {
  const child = spawn(cmd, args, { stdio: ['ignore', 'ignore', 'inherit'], cwd, env: { ...process.env, ...env } });
  procs.push(child);
  return child;
}

export async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  const t = setTimeout(() => child.kill('SIGKILL'), 8000);
  await exited;
  clearTimeout(t);
}

/** JSON over the proxy's control socket. */
export function control(socketPath: string, method: string, p: string, body?: unknown): Promise<Record<string, unknown>> {
  const payload = body ? JSON.stringify(body) : undefined;
  return new Promise((resolve, reject) => {
    const req = http.request({ socketPath, method, path: p, headers: payload ? { 'content-type': 'application/json' } : {} }, (res) => {
      let s = '';
      res.on('data', (c) => (s += c));
      res.on('end', () => ((res.statusCode ?? 500) < 300 ? resolve(JSON.parse(s)) : reject(new Error(`${res.statusCode} ${s}`))));
    });
    req.on('error', reject);
    req.end(payload);
  });
}

export interface WrkResult {
  rps: number;
  p50: number;
  p99: number;
  non2xx: number;
  errors: string;
}

/** One wrk run (2 threads, `--latency`) against `url`; `headers` as `Name: value` lines. */
export function wrk(url: string, opts: { connections: number; seconds: number; headers?: string[]; cpus?: string }): WrkResult {
  const extra = (opts.headers ?? []).flatMap((h) => ['-H', h]);
  const argv = ['-t', '2', '-c', String(opts.connections), '-d', `${opts.seconds}s`, '--latency', ...extra, url];
  const r = spawnSync(opts.cpus ? 'taskset' : 'wrk', opts.cpus ? ['-c', opts.cpus, 'wrk', ...argv] : argv, {
    encoding: 'utf8',
  });
  if (r.error) throw r.error;
  const out = r.stdout;
  const toMs = (s: string | undefined) => {
    const m = /([\d.]+)(us|ms|s)/.exec(s ?? '');
    if (!m) return Number.NaN;
    return Number(m[1]) * (m[2] === 'us' ? 0.001 : m[2] === 's' ? 1000 : 1);
  };
  return {
    rps: Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1] ?? 0),
    p50: toMs(/ 50%\s+(\S+)/.exec(out)?.[1]),
    p99: toMs(/ 99%\s+(\S+)/.exec(out)?.[1]),
    non2xx: Number(/Non-2xx or 3xx responses:\s+(\d+)/.exec(out)?.[1] ?? 0),
    errors: /Socket errors:.*/.exec(out)?.[0] ?? '',
  };
}

/**
 * Pins a running process, its threads and its children (an nginx master's workers) to `cpus`
 * (taskset's list, e.g. "0" or "0,1"), so a bench side does not land on a core by chance.
 */
export function pinTree(pid: number, cpus: string): void {
  const children = spawnSync('pgrep', ['-P', String(pid)], { encoding: 'utf8' })
    .stdout.split('\n')
    .filter(Boolean)
    .map(Number);
  for (const p of [pid, ...children]) spawnSync('taskset', ['-a', '-p', '-c', cpus, String(p)], { stdio: 'ignore' });
}

/** CPU time (user + system, in clock ticks of 10 ms) of a process and its children so far. */
export function treeTicks(pid: number): number {
  const children = spawnSync('pgrep', ['-P', String(pid)], { encoding: 'utf8' })
    .stdout.split('\n')
    .filter(Boolean)
    .map(Number);
  let sum = 0;
  for (const p of [pid, ...children]) {
    try {
      const f = readFileSync(`/proc/${p}/stat`, 'utf8').split(') ')[1]!.split(' ');
      sum += Number(f[11]) + Number(f[12]);
    } catch {}
  }
  return sum;
}

export interface BenchProxy {
  port: number;
  pid: number;
  child: ChildProcess;
  /** its control socket */
  sock: string;
}

/**
 * `paas proxy` from a dist dir (`dist/src/main.js`) on loopback with 1 route, host 127.0.0.1, to
 * the upstream (health check every 100 ms), started as the control plane starts it: with the
 * proxy's node options (proxy-node-flags.ts) unless `nodeFlags` says otherwise. Resolves once
 * its control socket reports the bound port and the route is in.
 */
export async function startBenchProxy(o: {
  dist: string;
  cwd: string;
  /** parent of the proxy's data dir (must be reachable by the proxy user) */
  tmp: string;
  workers: number;
  upstreamPort: number;
  env?: Record<string, string>;
  nodeFlags?: readonly string[];
}): Promise<BenchProxy> {
  const port = await freePort();
  const dataDir = mkdtempSync(path.join(o.tmp, 'paas-'));
  const args = [
    ...proxyProcessArgs({ dataDir, httpPort: port, workers: o.workers, logLevel: 'warn' }),
    '--proxy-max-connections-per-ip',
    '4000',
  ];
  const main = path.join(o.dist, 'src', 'main.js');
  const child = start(process.execPath, [...(o.nodeFlags ?? PROXY_NODE_FLAGS), main, 'proxy', ...args], o.cwd, o.env);
  const sock = path.join(dataDir, 'run', 'proxy.sock');
  for (let i = 0; ; i++) {
    try {
      if (((await control(sock, 'GET', '/status')).httpPort as number) > 0) break;
    } catch {}
    if (i > 300) throw new Error(`the proxy from ${o.dist} did not start`);
    await new Promise((r) => setTimeout(r, 100));
  }
  await control(sock, 'PUT', '/services/bench', {
    hosts: ['127.0.0.1'],
    targets: [`127.0.0.1:${o.upstreamPort}`],
    healthCheck: { path: '/', intervalMs: 100 },
  });
  return { port, pid: child.pid!, child, sock };
}
