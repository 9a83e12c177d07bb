import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import http2 from 'node:http2';
import https from 'node:https';
import { createRequire } from 'node:module';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { execa } from 'execa';
import { WebSocket } from 'ws';
import { commitFiles, push, viaProxy } from '../helpers/app-repo.js';
import { ensureNodeImage, NODE_IMAGE } from '../helpers/base-images.js';
import { requireDocker } from '../helpers/docker.js';
import { metricSeries, metricSum, scrapeMetrics } from '../helpers/metrics-text.js';
import { PaasServer, sshOptions } from '../helpers/paas-server.js';
import { waitFor } from '../helpers/wait.js';
import { openAndEcho, refusedStatus } from '../helpers/ws-client.js';

// Issue 24, the proxy's figures where requests go wrong or are not plain HTTP/1: a real `paas
// server`, a Node app in a real container that hangs, cuts its answer mid-body, closes its port
// and speaks websockets (the `ws` package copied into the image), read through the real proxy and
// the real /metrics endpoint, and `logs --proxy` over real OpenSSH.

const APP = 'faulty';
const HOST = `${APP}.paas.test`;
/** the proxy's upstream timeout in this test (PAAS_PROXY_UPSTREAM_TIMEOUT_MS) */
const UPSTREAM_TIMEOUT_MS = 1500;
let paas: PaasServer;
let metricsPort = 0;

const APP_JS = `
const http = require('http');
const { WebSocketServer } = require('./ws');
const port = Number(process.env.PORT);
const wss = new WebSocketServer({ noServer: true });
wss.on('connection', (ws) => ws.on('message', (m) => ws.send('echo ' + m)));
let server;
function start() {
  server = http.createServer((req, res) => {
    if (req.url === '/hang') return; // never answers
    if (req.url === '/reset') {
      // announces 100000 bytes, sends 7, then the connection goes
      res.writeHead(200, { 'content-length': '100000' });
      res.write('partial');
      setTimeout(() => req.socket.destroy(), 50);
      return;
    }
    if (req.url === '/close-port') {
      // stops listening for half a second: connecting is refused meanwhile
      res.on('finish', () => {
        server.close();
        server.closeAllConnections();
        setTimeout(start, 500);
      });
      res.writeHead(200, { connection: 'close' });
      res.end('closing');
      return;
    }
    if (req.url === '/big') {
      req.resume();
      req.on('end', () => res.end('b'.repeat(30000)));
      return;
    }
    res.end(JSON.stringify({ url: req.url, requestId: req.headers['x-request-id'] }));
  });
  server.on('upgrade', (req, socket, head) => wss.handleUpgrade(req, socket, head, (ws) => wss.emit('connection', ws, req)));
  server.listen(port);
}
start();
`;

/** The `ws` package's own files (pure JavaScript), for the app's image. */
function wsPackage(): Record<string, string> {
  const root = path.dirname(createRequire(import.meta.url).resolve('ws/package.json'));
  const files: Record<string, string> = { 'ws/package.json': fs.readFileSync(path.join(root, 'package.json'), 'utf8') };
  files['ws/index.js'] = fs.readFileSync(path.join(root, 'index.js'), 'utf8');
  for (const f of fs.readdirSync(path.join(root, 'lib'))) files[`ws/lib/${f}`] = fs.readFileSync(path.join(root, 'lib', f), 'utf8');
  return files;
}

before(async () => {
  await requireDocker();
  await ensureNodeImage();
  paas = await new PaasServer({ PAAS_PROXY_UPSTREAM_TIMEOUT_MS: String(UPSTREAM_TIMEOUT_MS) }).start();
  const dir = path.join(paas.dataDir, 'work', APP);
  await commitFiles(dir, {
    Dockerfile: `FROM ${NODE_IMAGE}\nWORKDIR /app\nCOPY . /app\nCMD ["node", "app.js"]\n`,
    'app.js': APP_JS,
    'app.json': JSON.stringify({ healthchecks: { web: [{ path: '/', attempts: 30 }] } }),
    ...wsPackage(),
  });
  const r = await push(paas, dir, APP);
  assert.equal(r.exitCode, 0, r.output);
  const report = await paas.ssh('metrics:report --json');
  metricsPort = Number(/^127\.0\.0\.1:(\d+)$/.exec((JSON.parse(report.stdout) as { listening: string }).listening)?.[1]);
  assert.ok(metricsPort > 0, report.stdout);
});
after(async () => {
  await paas?.destroy();
});

const scrape = async () => (await scrapeMetrics(metricsPort)).body;
const of = (text: string, name: string, labels = '') => metricSum(text, name, `app="${APP}"${labels}`);
/** How much the app's `name` (with `labels`) grew from `before` to `after`. */
const grew = (after: string, before: string, name: string, labels = '') => of(after, name, labels) - of(before, name, labels);

/** Waits until `n` more of the app's requests with `labels` (e.g. `,method="GET",code="1xx"`) are counted; the scrape then. */
function counted(before: string, labels: string, n = 1): Promise<string> {
  return waitFor(
    `${n} more requests${labels}`,
    async () => {
      const t = await scrape();
      return grew(t, before, 'paas_http_requests_total', labels) === n ? t : null;
    },
    10_000,
    100,
  );
}

/** The app's access log line whose path is `urlPath`, once it is there. */
function accessLine(urlPath: string): Promise<string> {
  return waitFor(
    `the access log line of ${urlPath}`,
    async () => {
      const l = await paas.ssh(`logs ${APP} --proxy -n 50`);
      assert.equal(l.exitCode, 0, l.stderr);
      return l.stdout.split('\n').find((x) => x.includes(` ${urlPath} `));
    },
    10_000,
    200,
  );
}

test('upstream errors by reason through the real proxy: a hang past the timeout, a body cut mid-way, a closed port', async () => {
  const before = await scrape();
  const reason = (text: string, r: string) => of(text, 'paas_upstream_errors_total', `,reason="${r}"`);
  for (const r of ['refused', 'timeout', 'reset', 'other']) assert.equal(reason(before, r), 0, `${r} before`);

  const started = Date.now();
  const hang = await viaProxy(paas, HOST, '/hang');
  assert.equal(hang.status, 504);
  assert.ok(Date.now() - started >= UPSTREAM_TIMEOUT_MS - 100, 'answered when the proxy gave up');

  // the client gets the 200 and a connection cut before the announced length
  const cut = await new Promise<string>((resolve) => {
    http
      .get({ host: '127.0.0.1', port: paas.ports.http, path: '/reset', headers: { host: HOST }, agent: false }, (res) => {
        res.resume();
        res.on('end', () => resolve(`${res.statusCode} whole`));
        res.on('error', () => resolve(`${res.statusCode} cut`));
        res.on('aborted', () => resolve(`${res.statusCode} cut`));
      })
      .on('error', (err) => resolve(`error ${err.message}`));
  });
  assert.equal(cut, '200 cut');

  assert.equal((await viaProxy(paas, HOST, '/close-port')).status, 200);
  const refused = await viaProxy(paas, HOST, '/after-close');
  assert.equal(refused.status, 502);

  const counted = await waitFor(
    'each failure counted under its reason',
    async () => {
      const t = await scrape();
      const all = reason(t, 'refused') === 1 && reason(t, 'timeout') === 1 && reason(t, 'reset') === 1;
      // and the requests themselves, counted when their responses closed
      return all && grew(t, before, 'paas_http_requests_total') === 4 ? t : null;
    },
    10_000,
    100,
  ).catch(async (err) =>
    assert.fail(
      `${(err as Error).message}\n${(await scrape())
        .split('\n')
        .filter((l) => l.includes('upstream'))
        .join('\n')}`,
    ),
  );
  assert.equal(reason(counted, 'other'), 0);
  // the four requests are in the figures by status class: the cut one as 2xx (its status was sent)
  assert.equal(grew(counted, before, 'paas_http_requests_total', ',method="GET",code="5xx"'), 2, '504 and 502');
  assert.equal(grew(counted, before, 'paas_http_requests_total', ',method="GET",code="2xx"'), 2, '/reset and /close-port');
  assert.match(await accessLine('/reset'), / 200 [\d.]+ms \d+B /);
  assert.match(await accessLine('/hang'), / 504 [\d.]+ms /);

  // the app listens again after half a second, and the proxy sends to it again; polled slowly, so
  // that the refused polls do not add up to the 3 connect failures that take a target out
  await waitFor('the app serving again', async () => (await viaProxy(paas, HOST, '/')).status === 200, 30_000, 700);
});

test('a websocket through the proxy is in flight while open and counts as one GET answered 101 once closed, with its bytes', async () => {
  const before = await scrape();
  const ws = new WebSocket(`ws://127.0.0.1:${paas.ports.http}/chat`, { headers: { host: HOST } });
  assert.equal((await openAndEcho(ws, 'w'.repeat(20_000))).length, 20_005);
  const open = await scrape();
  assert.equal(of(open, 'paas_http_in_flight_requests'), 1, 'the open websocket is in flight');
  assert.ok(metricSum(open, 'paas_proxy_open_connections') >= 1, 'its connection is open');
  assert.equal(
    of(open, 'paas_http_requests_total', ',method="GET",code="1xx"'),
    of(before, 'paas_http_requests_total', ',method="GET",code="1xx"'),
  );
  const closed = new Promise((r) => ws.once('close', r));
  ws.close();
  await closed;
  const after = await counted(before, ',method="GET",code="1xx"');
  assert.equal(of(after, 'paas_http_in_flight_requests'), 0);
  assert.ok(grew(after, before, 'paas_http_request_size_bytes_total') > 20_000);
  assert.ok(grew(after, before, 'paas_http_response_size_bytes_total') > 20_000);
  assert.match(await accessLine('/chat'), /GET \/chat 101 [\d.]+ms (\d+)B client=127\.0\.0\.1 id=\S+$/);
});

test('a websocket to a host no app serves is refused and counts for no app; no series is added', async () => {
  const before = await scrape();
  const ws = new WebSocket(`ws://127.0.0.1:${paas.ports.http}/x`, { headers: { host: 'nobody.paas.test' } });
  assert.equal(await refusedStatus(ws), 503);
  // a request to the app after it (the same proxy worker): once it is counted, the refusal would be too
  assert.equal((await viaProxy(paas, HOST, '/after-nobody')).status, 200);
  await counted(before, ',method="GET",code="2xx"');
  const after = await scrape();
  assert.equal(metricSum(after, 'paas_http_requests_total'), metricSum(before, 'paas_http_requests_total') + 1);
  assert.deepEqual(
    [...metricSeries(after)].filter((s) => !metricSeries(before).has(s) && s.startsWith('paas_http')),
    [],
  );
});

test('an HTTP/2 request over the HTTPS port counts its request and response bytes; TLS handshakes count by protocol', async () => {
  const before = await scrape();
  const session = http2.connect(`https://127.0.0.1:${paas.ports.https}`, { rejectUnauthorized: false, servername: HOST });
  try {
    const got = await new Promise<number>((resolve, reject) => {
      const req = session.request({ ':method': 'POST', ':path': '/big', ':authority': HOST, 'content-type': 'text/plain' });
      let n = 0;
      req.on('data', (d: Buffer) => (n += d.length));
      req.on('end', () => resolve(n));
      req.on('error', reject);
      req.end('p'.repeat(20_000));
    });
    assert.equal(got, 30_000);
    const after = await counted(before, ',method="POST",code="2xx"');
    const inBytes = grew(after, before, 'paas_http_request_size_bytes_total');
    const outBytes = grew(after, before, 'paas_http_response_size_bytes_total');
    assert.ok(inBytes >= 20_000 && inBytes < 25_000, `request bytes ${inBytes}`);
    assert.ok(outBytes >= 30_000 && outBytes < 35_000, `response bytes ${outBytes}`);
  } finally {
    session.close();
  }
  // an HTTP/1.1 client over TLS (no ALPN) counts as an h1 handshake
  const h1 = (t: string) => metricSum(t, 'paas_proxy_tls_handshakes_total', 'protocol="h1"');
  const h2 = (t: string) => metricSum(t, 'paas_proxy_tls_handshakes_total', 'protocol="h2"');
  const tlsBefore = await scrape();
  const r = await new Promise<number>((resolve, reject) => {
    https
      .get(
        {
          host: '127.0.0.1',
          port: paas.ports.https,
          path: '/tls-h1',
          servername: HOST,
          headers: { host: HOST },
          rejectUnauthorized: false,
          agent: false,
        },
        (res) => {
          res.resume();
          res.on('end', () => resolve(res.statusCode ?? 0));
        },
      )
      .on('error', reject);
  });
  assert.equal(r, 200);
  const tlsAfter = await counted(tlsBefore, ',method="GET",code="2xx"');
  assert.equal(h1(tlsAfter), h1(tlsBefore) + 1);
  assert.equal(h2(tlsAfter), h2(tlsBefore));
  assert.ok(h2(tlsBefore) >= 1, 'the HTTP/2 connection above was an h2 handshake');
  const line = await accessLine('/big');
  assert.match(line, /POST \/big 200 [\d.]+ms (\d+)B /);
  assert.ok(Number(/ (\d+)B /.exec(line)?.[1]) >= 30_000, line);
});

test("a client's valid X-Request-Id reaches the app and the access log; an invalid one is replaced", async () => {
  const get = (urlPath: string, id: string) =>
    new Promise<{ requestId: string }>((resolve, reject) => {
      http
        .get(
          { host: '127.0.0.1', port: paas.ports.http, path: urlPath, headers: { host: HOST, 'x-request-id': id }, agent: false },
          (res) => {
            let body = '';
            res.on('data', (d) => (body += d));
            res.on('end', () => resolve(JSON.parse(body) as { requestId: string }));
          },
        )
        .on('error', reject);
    });
  const mine = 'trace-01HF8K3Q8Z.web_1:a';
  assert.equal((await get('/with-id', mine)).requestId, mine);
  assert.match(await accessLine('/with-id'), new RegExp(`id=${mine}$`));
  for (const [i, bad] of ['has space', 'x'.repeat(129), 'a/b', 'quote"d'].entries()) {
    const seen = (await get(`/bad-id-${i}`, bad)).requestId;
    assert.notEqual(seen, bad);
    assert.match(seen, /^[0-9a-f]{8}-[0-9a-z]+$/, 'a generated id');
    assert.match(await accessLine(`/bad-id-${i}`), new RegExp(`id=${seen}$`));
  }
});

test('ps:top -w redraws the table in place every 2 s, on a terminal, until the session ends', async () => {
  const started = Date.now();
  const child = execa('ssh', ['-tt', ...sshOptions(paas.key.priv, paas.ports.ssh), 'paas@127.0.0.1', `ps:top ${APP} -w`], {
    reject: false,
    stdin: 'pipe',
  });
  let out = '';
  child.stdout?.on('data', (d: Buffer) => (out += d.toString('utf8')));
  const frames = () => out.split('\u001b[H\u001b[J').slice(1);
  try {
    await waitFor('three frames', async () => frames().length >= 3, 15_000, 100);
  } finally {
    child.kill();
    await child;
  }
  assert.ok(Date.now() - started >= 4000, 'one frame every 2 s');
  for (const f of frames().slice(0, 3)) {
    assert.match(f, /APP\s+PROCESS\s+REPLICAS/);
    assert.match(f, new RegExp(`${APP}\\s+web\\s+1\\s`));
  }
});
