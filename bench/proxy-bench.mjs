#!/usr/bin/env node
// Proxy benchmark: direct vs paas proxy vs nginx (same upstream, same worker count), with wrk;
// RSS per 1,000 idle keep-alive connections; route swap time for 100 services.
// Usage: npm run bench proxy [-- --duration 10 --connections 50]
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync, readFileSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const arg = (n, d) => {
  const i = process.argv.indexOf(`--${n}`);
  return i === -1 ? d : Number(process.argv[i + 1]);
};
const DURATION = arg('duration', 10);
const CONNS = arg('connections', 50);
const cores = os.availableParallelism();
const tmp = mkdtempSync(path.join(os.tmpdir(), 'paas-proxy-bench-'));
const procs = [];
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function freePort() {
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const p = s.address().port;
      s.close(() => resolve(p));
    });
  });
}

function start(cmd, args, opts = {}) {
  const child = spawn(cmd, args, { stdio: ['ignore', 'ignore', 'inherit'], ...opts });
  procs.push(child);
  return child;
}

async function stop(child) {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  const t = setTimeout(() => child.kill('SIGKILL'), 8000);
  await exited;
  clearTimeout(t);
}

async function waitHttp(port, host = '127.0.0.1', path = '/') {
  for (let i = 0; i < 200; i++) {
    const ok = await new Promise((resolve) => {
      const req = http.get({ host: '127.0.0.1', port, path, headers: { host }, agent: false }, (res) => {
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

function control(socketPath, method, p, body) {
  const payload = body ? JSON.stringify(body) : undefined;
  return new Promise((resolve, reject) => {
    const req = http.request({ socketPath, method, path: p, headers: payload ? { 'content-type': 'application/json' } : {} }, (res) => {
      let s = '';
      res.on('data', (c) => (s += c));
      res.on('end', () => (res.statusCode < 300 ? resolve(JSON.parse(s)) : reject(new Error(`${res.statusCode} ${s}`))));
    });
    req.on('error', reject);
    req.end(payload);
  });
}

function wrk(port) {
  const r = spawnSync('wrk', ['-t', '2', '-c', String(CONNS), '-d', `${DURATION}s`, '--latency', `http://127.0.0.1:${port}/`], {
    encoding: 'utf8',
  });
  const out = r.stdout;
  const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1] ?? 0);
  const toMs = (s) => {
    const m = /([\d.]+)(us|ms|s)/.exec(s ?? '');
    if (!m) return Number.NaN;
    return Number(m[1]) * (m[2] === 'us' ? 0.001 : m[2] === 's' ? 1000 : 1);
  };
  const non2xx = Number(/Non-2xx or 3xx responses:\s+(\d+)/.exec(out)?.[1] ?? 0);
  const errors = /Socket errors:.*/.exec(out)?.[0] ?? '';
  return { rps, p50: toMs(/ 50%\s+(\S+)/.exec(out)?.[1]), p99: toMs(/ 99%\s+(\S+)/.exec(out)?.[1]), non2xx, errors };
}

/** RSS of a process and its children (nginx's workers), in KiB. */
function rssKb(pid) {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  let kb = Number(/VmRSS:\s+(\d+)/.exec(status)[1]);
  const kids = spawnSync('pgrep', ['-P', String(pid)], { encoding: 'utf8' })
    .stdout.split('\n')
    .filter(Boolean);
  for (const k of kids) kb += rssKb(Number(k));
  return kb;
}

async function startProxy(workers, dataDir) {
  const port = await freePort();
  const opts = { dataDir, httpPort: port, httpsPort: 0, listen: '127.0.0.1', workers, logLevel: 'warn' };
  const child = start(process.execPath, ['--import', 'tsx', path.join(root, 'test/proxy/helpers/run-proxy.ts'), JSON.stringify(opts)], {
    cwd: root,
  });
  const sock = path.join(dataDir, 'run', 'proxy.sock');
  for (let i = 0; ; i++) {
    try {
      const s = await control(sock, 'GET', '/status');
      if (s.httpPort > 0) break;
    } catch {}
    if (i > 300) throw new Error('proxy did not start');
    await sleep(100);
  }
  return { child, port, sock };
}

async function startNginx(workers, upstreamPort) {
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
  return { child, port };
}

async function idleConnectionsRss(port, pid, n = 1000) {
  const before = rssKb(pid);
  const sockets = [];
  for (let i = 0; i < n; i++) {
    const s = net.connect(port, '127.0.0.1');
    sockets.push(s);
    await new Promise((r, j) => {
      s.once('connect', r);
      s.once('error', j);
    });
    s.write('GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n');
    s.on('data', () => {});
  }
  await sleep(1000);
  const afterKb = rssKb(pid);
  for (const s of sockets) s.destroy();
  return (afterKb - before) / 1024;
}

const fmt = (x, d = 0) => (Number.isFinite(x) ? x.toFixed(d) : '-');

async function main() {
  const upstreamPort = await freePort();
  const upstreamSrc = `require('http').createServer((q,s)=>{s.setHeader('content-type','text/plain');s.end('hello world\\n')}).listen(${upstreamPort},'127.0.0.1').keepAliveTimeout=65000`;
  start(process.execPath, ['-e', upstreamSrc]);
  await waitHttp(upstreamPort);
  console.log(`# proxy bench: wrk -t2 -c${CONNS} -d${DURATION}s, keep-alive, 12-byte body; ${cores} cores; node ${process.version}`);
  const rows = [];
  const direct = wrk(upstreamPort);
  rows.push({ name: 'direct', workers: '-', ...direct });
  const mem = {};
  for (const workers of [...new Set([1, cores])]) {
    const nginx = await startNginx(workers, upstreamPort);
    const n = wrk(nginx.port);
    if (workers === 1) mem.nginx = await idleConnectionsRss(nginx.port, nginx.child.pid);
    await stop(nginx.child);
    rows.push({ name: 'nginx', workers, ...n, nginx: n });

    const dataDir = mkdtempSync(path.join(tmp, 'paas-'));
    const proxy = await startProxy(workers, dataDir);
    await control(proxy.sock, 'PUT', '/services/bench', {
      hosts: ['127.0.0.1'],
      targets: [`127.0.0.1:${upstreamPort}`],
      healthCheck: { path: '/', intervalMs: 100 },
    });
    await waitHttp(proxy.port);
    wrk(proxy.port); // warm-up (JIT, pools)
    const p = wrk(proxy.port);
    if (workers === 1) {
      mem.paas = await idleConnectionsRss(proxy.port, proxy.child.pid);
      mem.swap = await swapBench(proxy.sock, upstreamPort);
    }
    await stop(proxy.child);
    rows.push({ name: 'paas', workers, ...p, nginx: n });
  }
  console.log('\n| target | workers | req/s | p50 ms | p99 ms | req/s vs nginx | p99 vs nginx | non-2xx |');
  console.log('|---|---|---|---|---|---|---|---|');
  for (const r of rows) {
    const ratio = r.nginx && r.name !== 'nginx' ? `${fmt(r.rps / r.nginx.rps, 2)}x` : '';
    const p99r = r.nginx && r.name !== 'nginx' ? `${fmt(r.p99 / r.nginx.p99, 2)}x` : '';
    console.log(
      `| ${r.name} | ${r.workers} | ${fmt(r.rps)} | ${fmt(r.p50, 2)} | ${fmt(r.p99, 2)} | ${ratio} | ${p99r} | ${r.non2xx}${r.errors ? ` ${r.errors}` : ''} |`,
    );
  }
  console.log(`\nRSS per 1,000 idle keep-alive connections (1 worker): paas ${fmt(mem.paas, 1)} MiB, nginx ${fmt(mem.nginx, 1)} MiB`);
  const s = mem.swap;
  console.log(
    `Route swap, 100 services, inside the proxy (decision -> persisted + applied in all workers): mean ${fmt(s.applied.mean, 3)} ms (p99 ${fmt(s.applied.p99, 3)})`,
  );
  console.log(
    `Route swap, 100 services, client PUT round trip (no health-check wait): hosts change mean ${fmt(s.hosts.mean, 3)} ms (p99 ${fmt(s.hosts.p99, 3)}), target removal incl. drain of an idle target mean ${fmt(s.remove.mean, 3)} ms (p99 ${fmt(s.remove.p99, 3)})`,
  );
}

async function swapBench(sock, upstreamPort) {
  // a second healthy target, idle, served from this process
  const second = http.createServer((_q, s) => s.end('ok'));
  await new Promise((r) => second.listen(0, '127.0.0.1', r));
  const a = `127.0.0.1:${upstreamPort}`;
  const b = `127.0.0.1:${second.address().port}`;
  const spec = (_i, hosts, targets) => ({ hosts, targets, healthCheck: { path: '/', intervalMs: 100 } });
  for (let i = 0; i < 100; i++) await control(sock, 'PUT', `/services/s${i}`, spec(i, [`s${i}.bench`], [a, b]));
  const stat = (xs) => {
    xs.sort((x, y) => x - y);
    return { mean: xs.reduce((p, x) => p + x, 0) / xs.length, p99: xs[Math.floor(xs.length * 0.99) - 1] ?? xs[xs.length - 1] };
  };
  const hosts = [];
  const remove = [];
  const applied = [];
  for (let i = 0; i < 100; i++) {
    let t = process.hrtime.bigint();
    const r = await control(sock, 'PUT', `/services/s${i}`, spec(i, [`s${i}.bench`, `www.s${i}.bench`], [a, b]));
    applied.push(r.swapMs);
    hosts.push(Number(process.hrtime.bigint() - t) / 1e6);
    t = process.hrtime.bigint();
    await control(sock, 'PUT', `/services/s${i}`, spec(i, [`s${i}.bench`, `www.s${i}.bench`], [a]));
    remove.push(Number(process.hrtime.bigint() - t) / 1e6);
  }
  second.closeAllConnections();
  second.close();
  return { hosts: stat(hosts), remove: stat(remove), applied: stat(applied) };
}

const watchdog = setTimeout(() => {
  console.error('bench: timed out');
  cleanup().then(() => process.exit(1));
}, 10 * 60_000);

async function cleanup() {
  for (const p of procs) await stop(p).catch(() => {});
  rmSync(tmp, { recursive: true, force: true });
}

main()
  .then(cleanup, async (err) => {
    console.error(err);
    await cleanup();
    process.exitCode = 1;
  })
  .finally(() => clearTimeout(watchdog));
