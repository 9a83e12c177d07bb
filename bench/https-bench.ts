/**
 * `npm run bench https [-- --duration 10 --connections 50 --runs 3]`: HTTPS through the paas proxy
 * (compiled dist/, `paas proxy`) against nginx terminating TLS with the same certificate (RSA 2048,
 * made here with openssl) in front of the same upstream, measured with wrk: keep-alive runs (TLS
 * once per connection) and new-connection runs (`Connection: close`: a full TLS handshake per
 * request, so their req/s are full handshakes per second).
 *
 * Fairness: same worker count, same certificate and key, TLS 1.3 on both (the versions' default),
 * no session resumption on either side (wrk makes a new TLS session per connection), both started
 * side by side and warmed up with the same untimed run; measured runs alternate the order.
 * paas picks the certificate by SNI (wrk sends `localhost`), nginx has one server. Each section
 * first waits (at most 3 min) for a quiet machine.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import { control, freePort, procs, start, stop, type WrkResult, wrk } from './bench-procs.js';
import { fmtStats, median, plural, ratio, Results, sleep, waitForQuiet } from './bench-stats.js';
import { PROXY_NODE_FLAGS } from '../src/proxy/process/proxy-node-flags.js';

const root = path.resolve(import.meta.dirname, '..');
const MAIN = path.join(root, 'dist', 'src', 'main.js');
const arg = (n: string, d: number) => {
  const i = process.argv.indexOf(`--${n}`);
  return i === -1 ? d : Number(process.argv[i + 1]);
};
const DURATION = arg('duration', 10);
const CONNS = arg('connections', 50);
const RUNS = arg('runs', 3);
const HOST = 'localhost';
const cores = os.availableParallelism();
const tmp = mkdtempSync(path.join(os.tmpdir(), 'paas-https-bench-'));
// the proxy drops root to its own user (paas-proxy), which must reach the data dirs below
chmodSync(tmp, 0o755);

interface Side {
  name: string;
  port: number;
  stop(): Promise<void>;
}

function makeCert(): { cert: string; key: string; certFile: string; keyFile: string } {
  const certFile = path.join(tmp, 'bench.crt');
  const keyFile = path.join(tmp, 'bench.key');
  const r = spawnSync('openssl', [
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-sha256',
    '-days',
    '2',
    '-subj',
    `/CN=${HOST}`,
    '-addext',
    `subjectAltName=DNS:${HOST}`,
    '-keyout',
    keyFile,
    '-out',
    certFile,
  ]);
  if (r.status !== 0) throw new Error(`openssl failed: ${r.stderr}`);
  chmodSync(keyFile, 0o644);
  return { cert: readFileSync(certFile, 'utf8'), key: readFileSync(keyFile, 'utf8'), certFile, keyFile };
}

async function waitHttps(port: number, ca: string): Promise<void> {
  for (let i = 0; i < 300; i++) {
    const ok = await new Promise((resolve) => {
      const req = https.get({ host: '127.0.0.1', port, path: '/', servername: HOST, headers: { host: HOST }, ca, agent: false }, (res) => {
        res.resume();
        resolve(res.statusCode === 200);
      });
      req.on('error', () => resolve(false));
    });
    if (ok) return;
    await sleep(100);
  }
  throw new Error(`nothing answered 200 over HTTPS on port ${port}`);
}

async function startPaas(workers: number, upstreamPort: number, tls: { cert: string; key: string }): Promise<Side> {
  const port = await freePort();
  const dataDir = mkdtempSync(path.join(tmp, 'paas-'));
  const child = start(
    process.execPath,
    [
      // the node options the control plane starts the proxy with (proxy-node-flags.ts)
      ...PROXY_NODE_FLAGS,
      MAIN,
      'proxy',
      '--data-dir',
      dataDir,
      '--http-port',
      '0',
      '--https-port',
      String(port),
      '--listen',
      '127.0.0.1',
      '--proxy-workers',
      String(workers),
      '--log-level',
      'warn',
    ],
    root,
  );
  const sock = path.join(dataDir, 'run', 'proxy.sock');
  for (let i = 0; ; i++) {
    try {
      const s = await control(sock, 'GET', '/status');
      if ((s.httpsPort as number) > 0) break;
    } catch {}
    if (i > 300) throw new Error('proxy did not start');
    await sleep(100);
  }
  await control(sock, 'PUT', '/services/bench', {
    hosts: [HOST],
    targets: [`127.0.0.1:${upstreamPort}`],
    healthCheck: { path: '/', intervalMs: 100 },
  });
  await control(sock, 'PUT', '/tls', {
    certs: [{ id: 'bench/custom', ...tls }],
    hosts: { [HOST]: { cert: 'bench/custom', redirect: true, hsts: false } },
  });
  await waitHttps(port, tls.cert);
  return { name: 'paas', port, stop: () => stop(child) };
}

async function startNginx(workers: number, upstreamPort: number, certFile: string, keyFile: string, ca: string): Promise<Side> {
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
    listen 127.0.0.1:${port} ssl;
    ssl_certificate ${certFile};
    ssl_certificate_key ${keyFile};
    ssl_protocols TLSv1.2 TLSv1.3;
    ssl_session_cache off;
    ssl_session_tickets off;
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
  const child = start('nginx', ['-c', path.join(dir, 'nginx.conf'), '-p', dir], root);
  await waitHttps(port, ca);
  return { name: 'nginx', port, stop: () => stop(child) };
}

const fmt = (x: number, d = 0) => (Number.isFinite(x) ? x.toFixed(d) : '-');

async function main() {
  const res = new Results('https', 'HTTPS (TLS termination) throughput, latency and handshakes against nginx');
  const tls = makeCert();
  const upstreamPort = await freePort();
  const upstreamSrc = `require('http').createServer((q,s)=>{s.setHeader('content-type','text/plain');s.end('hello world\\n')}).listen(${upstreamPort},'127.0.0.1').keepAliveTimeout=65000`;
  start(process.execPath, ['-e', upstreamSrc], root);
  await sleep(500);
  const nginxVersion = spawnSync('nginx', ['-v'], { encoding: 'utf8' }).stderr.trim();
  const modes = [
    { name: 'keep-alive', headers: [] as string[] },
    { name: 'new connection per request', headers: ['Connection: close'] },
  ];
  console.log(
    `# https bench: wrk -t2 -c${CONNS} -d${DURATION}s; ${plural(RUNS, 'run')}; ${cores} cores; node ${process.version}; ${nginxVersion}`,
  );
  for (const workers of [...new Set([1, cores])]) {
    const load = await waitForQuiet(`https, ${workers} worker(s)`);
    const nginx = await startNginx(workers, upstreamPort, tls.certFile, tls.keyFile, tls.cert);
    const paas = await startPaas(workers, upstreamPort, tls);
    await sleep(1000);
    const sides = [nginx, paas];
    for (const mode of modes) {
      const run = (s: Side) => wrk(`https://${HOST}:${s.port}/`, { connections: CONNS, seconds: DURATION, headers: mode.headers });
      for (const s of sides) run(s); // untimed warm-up, the same for both
      const runs: WrkResult[][] = sides.map(() => []);
      for (let i = 0; i < RUNS; i++) {
        for (let k = 0; k < sides.length; k++) {
          const j = (i + k) % sides.length;
          const r = run(sides[j]);
          if (r.non2xx || r.errors) console.log(`  ${sides[j].name} ${mode.name} run ${i}: ${r.non2xx} non-2xx ${r.errors}`);
          runs[j].push(r);
        }
      }
      const [n, p] = runs;
      const rps = (rs: WrkResult[]) => rs.map((r) => r.rps);
      const p99 = (rs: WrkResult[]) => rs.map((r) => r.p99);
      const errs = [...n, ...p].reduce((s, r) => s + r.non2xx, 0);
      const sockErrs = [...n, ...p].filter((r) => r.errors).length;
      const fresh = mode.headers.length > 0;
      const cond = `same RSA 2048 certificate, TLS 1.3, ${workers} worker(s) each; wrk -t2 -c${CONNS} -d${DURATION}s${fresh ? " -H 'Connection: close'" : ''}; ${plural(RUNS, 'run')} each after 1 warm-up run each, order rotated; ${load}; non-2xx ${errs}; runs with socket errors ${sockErrs}`;
      res.add({
        figure: fresh
          ? `HTTPS full handshakes/s (one request per connection), ${workers} worker(s)`
          : `HTTPS req/s keep-alive, ${workers} worker(s)`,
        paas: fmtStats(rps(p), fresh ? '/s' : 'req/s', 0),
        reference: `nginx ${fmtStats(rps(n), fresh ? '/s' : 'req/s', 0)}`,
        ratio: ratio(median(rps(p)), median(rps(n))),
        conditions: cond,
      });
      res.add({
        figure: `HTTPS p99 latency, ${mode.name}, ${workers} worker(s)`,
        paas: fmtStats(p99(p), 'ms', 2),
        reference: `nginx ${fmtStats(p99(n), 'ms', 2)}`,
        ratio: ratio(median(p99(p)), median(p99(n))),
        conditions: `the same runs; p50 paas ${fmt(median(p.map((r) => r.p50)), 2)} ms, nginx ${fmt(median(n.map((r) => r.p50)), 2)} ms`,
      });
    }
    await nginx.stop();
    await paas.stop();
  }
  res.note(
    `${nginxVersion} with ssl_session_cache and tickets off; paas serves the certificate by SNI from its TLS state (the same path as certs:add / Let's Encrypt) and offers h2 by ALPN, wrk speaks HTTP/1.1. wrk, the upstream and the proxy share the ${cores} cores.`,
  );
  res.write();
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
  (10 + (2 * 2 * (RUNS * 2 + 2) * DURATION) / 60) * 60_000,
);

main()
  .then(cleanup, async (err) => {
    console.error(err);
    await cleanup();
    process.exitCode = 1;
  })
  .finally(() => clearTimeout(watchdog));
