import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import http2 from 'node:http2';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { busyboxApp, commitFiles, healthAppJson, push, viaProxy } from '../helpers/app-repo.js';
import { ensureBusyboxImage } from '../helpers/base-images.js';
import { dockerClient, requireDocker, runFilter } from '../helpers/docker.js';
import { metricSeries, metricSum, scrapeMetrics } from '../helpers/metrics-text.js';
import { PaasServer } from '../helpers/paas-server.js';
import { Prometheus } from '../helpers/prometheus.js';
import { waitFor } from '../helpers/wait.js';

// Issue 24, metrics and the terminal: a real `paas server` with 2 proxy workers, a busybox app, the
// Prometheus endpoint read over HTTP and scraped by a real Prometheus, ps:top and logs --proxy
// over real OpenSSH.

const APP = 'metered';
const HOST = `${APP}.paas.test`;
let paas: PaasServer;
let prometheus: Prometheus | null = null;
/** the metrics endpoint's port (the test servers listen on 127.0.0.1:0) */
let metricsPort = 0;

/** Where the endpoint listens now, from metrics:report. */
async function listening(): Promise<string> {
  const r = await paas.ssh('metrics:report --json');
  assert.equal(r.exitCode, 0, r.stderr);
  return (JSON.parse(r.stdout) as { listening: string }).listening;
}

before(async () => {
  await requireDocker();
  await ensureBusyboxImage();
  paas = await new PaasServer({ PAAS_PROXY_WORKERS: '2' }).start();
  const dir = path.join(paas.dataDir, 'work', APP);
  await commitFiles(dir, busyboxApp('metered', { 'app.json': healthAppJson() }));
  const r = await push(paas, dir, APP);
  assert.equal(r.exitCode, 0, r.output);
  metricsPort = Number(/^127\.0\.0\.1:(\d+)$/.exec(await listening())?.[1]);
  assert.ok(metricsPort > 0);
});
after(async () => {
  await prometheus?.stop();
  await paas?.destroy();
});

const scrape = (port = metricsPort) => scrapeMetrics(port);
const sum = metricSum;
const series = metricSeries;

const appRequests = async () => sum((await scrape()).body, 'paas_http_requests_total', `app="${APP}"`);

/** `n` requests through the proxy, `concurrency` at a time, each on a new connection unless `keepAlive`. */
async function load(n: number, pathOf: (i: number) => string, concurrency = 8, keepAlive = false): Promise<number[]> {
  const agent = keepAlive ? new http.Agent({ keepAlive: true, maxSockets: concurrency }) : false;
  const statuses: number[] = [];
  let next = 0;
  const lane = async () => {
    while (next < n) {
      const i = next++;
      statuses.push(
        await new Promise<number>((resolve, reject) => {
          http
            .get({ host: '127.0.0.1', port: paas.ports.http, path: pathOf(i), headers: { host: HOST }, agent }, (res) => {
              res.resume();
              res.on('end', () => resolve(res.statusCode ?? 0));
            })
            .on('error', reject);
        }),
      );
    }
  };
  await Promise.all(Array.from({ length: concurrency }, lane));
  if (agent) agent.destroy();
  return statuses;
}

test('health checks are kept out of the figures: after the deploy (health-gated, probed every second) the app has no requests', async () => {
  const r = await scrape();
  assert.equal(r.status, 200);
  assert.match(r.type, /^text\/plain; version=0\.0\.4/);
  assert.equal(sum(r.body, 'paas_http_requests_total', `app="${APP}"`), 0, r.body);
  assert.equal(sum(r.body, 'paas_proxy_workers'), 2, 'the view holds both workers');
  assert.equal(sum(r.body, 'paas_proxy_up'), 1);
});

test('N requests through 2 proxy workers read exactly N, and stay N while the proxy keeps probing', async () => {
  const statuses = await load(200, () => '/');
  assert.deepEqual([...new Set(statuses)], [200]);
  await waitFor('200 requests counted', async () => (await appRequests()) === 200, 10_000);
  // the proxy probes the target every second: two more seconds add nothing
  await new Promise((r) => setTimeout(r, 2000));
  const text = (await scrape()).body;
  assert.equal(sum(text, 'paas_http_requests_total', `app="${APP}"`), 200);
  assert.equal(sum(text, 'paas_http_requests_total', `app="${APP}",method="GET",code="2xx"`), 200);
  assert.equal(sum(text, 'paas_http_request_duration_seconds_count', `app="${APP}"`), 200);
  assert.equal(sum(text, 'paas_http_in_flight_requests', `app="${APP}"`), 0);
  assert.ok(sum(text, 'paas_http_response_size_bytes_total', `app="${APP}"`) > 200 * 8);
});

test('a real Prometheus scrapes the endpoint and PromQL returns the requests the test sent', async () => {
  prometheus = await new Prometheus(path.join(paas.dataDir, 'prometheus'), `127.0.0.1:${metricsPort}`).start();
  const query = `sum(paas_http_requests_total{app="${APP}"})`;
  await waitFor('prometheus has the 200 requests', async () => (await prometheus!.query(query))[0]?.value === 200, 30_000, 250).catch(
    (err) => assert.fail(`${(err as Error).message}\n${prometheus!.log()}`),
  );
  await load(50, () => '/');
  await waitFor('prometheus has 250', async () => (await prometheus!.query(query))[0]?.value === 250, 30_000, 250);
  const rate = await prometheus.query(`sum(rate(paas_http_requests_total{app="${APP}"}[1m]))`);
  assert.ok(rate[0]?.value > 0, JSON.stringify(rate));
  const up = await prometheus.query('up{job="paas"}');
  assert.equal(up[0]?.value, 1);
});

test('10,000 requests to random paths add no series, and no path reaches a label', async () => {
  const token = randomBytes(6).toString('hex');
  // the first one makes the app's 4xx series (busybox answers 404)
  await load(1, () => `/${token}-warmup`);
  const before = await appRequests();
  await waitFor('warm-up counted', async () => (await appRequests()) === before || (await appRequests()) > before, 5000);
  const start = (await scrape()).body;
  const counted = sum(start, 'paas_http_requests_total', `app="${APP}"`);
  const statuses = await load(10_000, (i) => `/${token}/${i}/${randomBytes(4).toString('hex')}?q=${i}`, 16, true);
  assert.equal(statuses.length, 10_000);
  await waitFor('10,000 counted', async () => (await appRequests()) === counted + 10_000, 30_000);
  const end = (await scrape()).body;
  const added = [...series(end)].filter((s) => !series(start).has(s));
  assert.deepEqual(added, []);
  assert.doesNotMatch(end, new RegExp(token));
});

test('control-plane and container figures: deploys, build info, the running web container', async () => {
  const text = (await scrape()).body;
  assert.equal(sum(text, 'paas_deploys_total', `app="${APP}",result="succeeded"`), 1, text);
  assert.ok(sum(text, 'paas_deploy_stage_duration_seconds_count') >= 1);
  assert.match(text, /^paas_build_info\{version="[^"]+"\} 1$/m);
  assert.equal(sum(text, 'paas_build_queue_length'), 0);
  assert.equal(sum(text, 'paas_container_replicas', `app="${APP}",process="web"`), 1);
  assert.ok(sum(text, 'paas_container_memory_working_set_bytes', `app="${APP}",process="web"`) > 0);
  assert.ok(sum(text, 'paas_container_cpu_seconds_total', `app="${APP}",process="web"`) > 0);
  assert.ok(sum(text, 'paas_container_network_receive_bytes_total', `app="${APP}",process="web"`) > 0);
});

test('ps:top --json shows the app: replicas, memory, and the last minute of traffic', async () => {
  const r = await paas.ssh(`ps:top ${APP} --json`);
  assert.equal(r.exitCode, 0, r.stderr);
  const top = JSON.parse(r.stdout) as {
    windowSeconds: number;
    rows: Array<{
      app: string;
      process: string;
      replicas: number;
      memoryBytes: number;
      cpuPercent: number | null;
      traffic: { requests: number; requestsPerSecond: number; serverErrors: number } | null;
    }>;
  };
  const web = top.rows.find((x) => x.app === APP && x.process === 'web');
  assert.ok(web, r.stdout);
  assert.equal(web.replicas, 1);
  assert.ok(web.memoryBytes > 0);
  assert.equal(typeof web.cpuPercent, 'number');
  assert.ok(web.traffic && web.traffic.requests >= 10_000 && web.traffic.requestsPerSecond > 0, r.stdout);
  assert.equal(web.traffic.serverErrors, 0);
  const all = await paas.ssh('ps:top');
  assert.equal(all.exitCode, 0, all.stderr);
  assert.match(all.stdout, /^APP\s+PROCESS\s+REPLICAS\s+CPU\s+MEMORY/m);
  assert.match(all.stdout, new RegExp(`^${APP}\\s+web\\s+1\\s`, 'm'));
});

test('logs --proxy shows a request with its id, the same id the app received as X-Request-Id', async () => {
  const token = randomBytes(5).toString('hex');
  const r = await viaProxy(paas, HOST, `/cgi-bin/env?trace=${token}`);
  assert.equal(r.status, 200);
  const id = /^HTTP_X_REQUEST_ID=(.+)$/m.exec(r.body)?.[1];
  assert.ok(id, r.body);
  const line = await waitFor(
    'the access log line',
    async () => {
      const l = await paas.ssh(`logs ${APP} --proxy -n 20`);
      assert.equal(l.exitCode, 0, l.stderr);
      return l.stdout.split('\n').find((x) => x.includes(`trace=${token}`));
    },
    10_000,
    200,
  );
  assert.match(
    line,
    new RegExp(`^\\d{4}-\\d\\d-\\d\\dT\\S+Z GET /cgi-bin/env\\?trace=${token} 200 [\\d.]+ms \\d+B client=127\\.0\\.0\\.1 id=${id}$`),
  );
});

test("the server's log has no Node process warning once its background jobs run (their shared stop signal is no leak)", () => {
  const log = fs.readFileSync(path.join(paas.dataDir, 'server.log'), 'utf8');
  assert.match(log, /"msg":"dashboard listening"/, 'the server is up');
  assert.doesNotMatch(log, /\w+Warning: /);
});

test('TLS handshakes are counted by protocol, and an HTTP/2 request counts for the app', async () => {
  const before = (await scrape()).body;
  const session = http2.connect(`https://127.0.0.1:${paas.ports.https}`, { rejectUnauthorized: false, servername: HOST });
  try {
    const status = await new Promise<number>((resolve, reject) => {
      const req = session.request({ ':path': '/', ':authority': HOST });
      let code = 0;
      req.on('response', (h) => (code = Number(h[':status'])));
      req.on('end', () => resolve(code));
      req.on('error', reject);
      req.resume();
      req.end();
    });
    assert.equal(status, 200);
  } finally {
    session.close();
  }
  await waitFor(
    'the h2 request counted',
    async () => (await appRequests()) === sum(before, 'paas_http_requests_total', `app="${APP}"`) + 1,
    10_000,
  );
  const after = (await scrape()).body;
  const h2 = (t: string) => sum(t, 'paas_proxy_tls_handshakes_total', 'protocol="h2"');
  assert.equal(h2(after), h2(before) + 1);
});

test('a container that dies without paas stopping it counts as a restart of its app and process type', async () => {
  const docker = dockerClient();
  const [c] = await docker.listContainers({ filters: { label: [runFilter(paas.labels), `paas.app=${APP}`, 'paas.process=web'] } });
  assert.ok(c, 'the web container');
  await docker.getContainer(c.Id).kill({ signal: 'SIGKILL' });
  await waitFor(
    'the restart counted',
    async () => sum((await scrape()).body, 'paas_container_restarts_total', `app="${APP}",process="web"`) === 1,
    20_000,
    200,
  );
  // paas (or the engine's restart policy) brings it back
  await waitFor('the app serving again', async () => (await viaProxy(paas, HOST, '/')).status === 200, 60_000, 250);
});

test('bad input is refused with one line and changes nothing', async () => {
  const before = await paas.ssh('metrics:report --json');
  for (const [cmd, why] of [
    ['metrics:set listen 0.0.0.0', /is not ADDR:PORT/],
    ['metrics:set listen 127.0.0.1:70000', /is not ADDR:PORT/],
    ['metrics:set listen relative.sock', /is not ADDR:PORT/],
    ['metrics:set color blue', /unknown metrics setting 'color'/],
    ['metrics:set listen', /missing arguments/],
    [`logs ${APP} --proxy -p worker`, /--proxy shows web requests/],
    ['ps:top nosuchapp', /app 'nosuchapp' does not exist/],
    [`ps:top ${APP} extra`, /unexpected argument/],
    ['ps:top Bad_Name', /invalid app name/],
  ] as const) {
    const r = await paas.ssh(cmd);
    assert.notEqual(r.exitCode, 0, cmd);
    assert.equal(r.stderr.trim().split('\n').length, 1, `${cmd}: ${r.stderr}`);
    assert.match(r.stderr, why, cmd);
  }
  // a port already taken: the endpoint stays where it was
  const taken = net.createServer();
  await new Promise<void>((r) => taken.listen(0, '127.0.0.1', r));
  const port = (taken.address() as net.AddressInfo).port;
  const r = await paas.ssh(`metrics:set listen 127.0.0.1:${port}`);
  taken.close();
  assert.equal(r.exitCode, 1);
  assert.match(r.stderr, /cannot listen on 127\.0\.0\.1:\d+: EADDRINUSE/);
  assert.equal((await paas.ssh('metrics:report --json')).stdout, before.stdout);
  assert.equal((await scrape()).status, 200);
  // a developer key may not move the endpoint
  const dev = await paas.addDeveloper('dev', [APP]);
  const d = await paas.ssh('metrics:set listen off', { key: dev.priv });
  assert.notEqual(d.exitCode, 0);
  assert.match(d.stderr, /needs an admin key/);
});

test('the endpoint is off the public ports: loopback by default, a unix socket or off on request', async () => {
  // not served by the proxy on the app ports
  const viaHttp = await viaProxy(paas, 'paas.test', '/metrics');
  assert.doesNotMatch(viaHttp.body, /paas_http_requests_total/);
  // bound to loopback only: another address of this host refuses it
  const external = Object.values(os.networkInterfaces())
    .flat()
    .find((i) => i && i.family === 'IPv4' && !i.internal)?.address;
  if (external) {
    const refused = await new Promise<boolean>((resolve) => {
      const s = net.connect({ host: external, port: metricsPort }, () => {
        s.destroy();
        resolve(false);
      });
      s.on('error', () => resolve(true));
    });
    assert.equal(refused, true, `metrics port reachable on ${external}`);
  }
  const sock = path.join(paas.dataDir, 'metrics.sock');
  const moved = await paas.ssh(`metrics:set listen ${sock}`);
  assert.equal(moved.exitCode, 0, moved.stderr);
  const viaSocket = await new Promise<string>((resolve, reject) => {
    http
      .get({ socketPath: sock, path: '/metrics' }, (res) => {
        let body = '';
        res.on('data', (d) => (body += d));
        res.on('end', () => resolve(body));
      })
      .on('error', reject);
  });
  assert.match(viaSocket, /paas_http_requests_total\{app="metered"/);
  await assert.rejects(scrape(), /ECONNREFUSED/);
  const off = await paas.ssh('metrics:set listen off');
  assert.equal(off.exitCode, 0, off.stderr);
  assert.equal(fs.existsSync(sock), false);
  const report = JSON.parse((await paas.ssh('metrics:report --json')).stdout) as { configured: string; listening: string };
  assert.deepEqual(report, { configured: 'off', listening: 'off' });
});

test('the figures live in the proxy: a control-plane restart keeps the counts, and the stored listen setting', async () => {
  const port = async () => {
    const on = await paas.ssh('metrics:set listen 127.0.0.1:0');
    assert.equal(on.exitCode, 0, on.stderr);
    const p = Number(/listening on 127\.0\.0\.1:(\d+)/.exec(on.stdout)?.[1]);
    assert.ok(p > 0, on.stdout);
    return p;
  };
  const counted = sum((await scrape(await port())).body, 'paas_http_requests_total', `app="${APP}"`);
  // 200 + 50 + 1 + 10,000 + the traced request + the HTTP/2 one + those polling the app back after the crash
  assert.ok(counted >= 10_253, String(counted));
  assert.equal((await paas.ssh('metrics:set listen off')).exitCode, 0);
  assert.equal(await paas.stop('SIGUSR2'), 0);
  await paas.spawnServer();
  assert.equal(await listening(), 'off', 'metrics:set listen off outlives the restart');
  assert.equal(sum((await scrape(await port())).body, 'paas_http_requests_total', `app="${APP}"`), counted);
});
