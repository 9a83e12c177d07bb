// Kept app logs, driven as a user would over real SSH, git and Docker: lines outlive a redeploy and
// the removal of their container, resume without loss or doubles after a control-plane restart,
// are trimmed by size and age, survive a full disk without harm, and are shipped to syslog+tls
// and https drains, while a drain that never answers costs nothing but counted drops.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import net from 'node:net';
import path from 'node:path';
import { after, before, test } from 'node:test';
import tls from 'node:tls';
import { execa } from 'execa';
import { busyboxApp, commitFiles, push, viaProxy } from '../helpers/app-repo.js';
import { ensureBusyboxImage } from '../helpers/base-images.js';
import { dockerClient, requireDocker, runFilter } from '../helpers/docker.js';
import { PaasServer } from '../helpers/paas-server.js';
import { waitFor } from '../helpers/wait.js';

let paas: PaasServer;
let certDir: string;
const servers: net.Server[] = [];
const mounts: string[] = [];

const PROCFILE = [
  `web: sh -c 'echo "booting $MARK"; echo "to stderr $MARK" >&2; i=0; while [ $i -lt \${LINES:-0} ]; do i=$((i+1)); echo "line $i of $MARK padded to make the log grow quickly"; done; exec httpd -f -p $PORT -h /www'`,
  `worker: sh -c 'i=0; while true; do i=$((i+1)); echo "tick $i"; sleep 0.3; done'`,
].join('\n');

const appFiles = (app: string, formation: Record<string, number>) =>
  busyboxApp(`${app}-serves`, {
    Procfile: PROCFILE,
    'app.json': JSON.stringify({
      formation: Object.fromEntries(Object.entries(formation).map(([k, n]) => [k, { quantity: n }])),
      healthchecks: { web: [{ path: '/', attempts: 30 }] },
    }),
  });

async function deploy(app: string, formation: Record<string, number>) {
  const dir = path.join(paas.dataDir, 'work', app);
  await commitFiles(dir, appFiles(app, formation));
  const r = await push(paas, dir, app);
  assert.equal(r.exitCode, 0, r.output);
}

const ok = async (cmd: string, key?: string) => {
  const r = await paas.ssh(cmd, key ? { key } : {});
  assert.equal(r.exitCode, 0, `${cmd}: ${r.stderr}`);
  return r.stdout;
};
const report = async (app: string) => JSON.parse(await ok(`logs:report ${app} --json`));
const lines = async (cmd: string) => (await ok(cmd)).split('\n').filter(Boolean);
const ticks = (ls: string[]) =>
  ls.flatMap((l) => {
    const m = / worker\.1: tick (\d+)$/.exec(l);
    return m ? [Number(m[1])] : [];
  });
const containersOf = async (app: string) =>
  dockerClient().listContainers({ all: true, filters: { label: [`paas.app=${app}`, runFilter(paas.labels)] } });

/** A bad input: exit 2, one line on stderr. */
async function refused(cmd: string, pattern: RegExp) {
  const r = await paas.ssh(cmd);
  assert.equal(r.exitCode, 2, `${cmd}: ${r.stdout}${r.stderr}`);
  assert.equal(r.stderr.split('\n').filter(Boolean).length, 1, r.stderr);
  assert.match(r.stderr, pattern);
}

async function listen(server: net.Server): Promise<number> {
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return (server.address() as AddressInfo).port;
}

before(async () => {
  await requireDocker();
  await ensureBusyboxImage();
  certDir = fs.mkdtempSync('/tmp/paas-drain-cert-');
  await execa('openssl', [
    'req',
    '-x509',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:prime256v1',
    '-nodes',
    '-days',
    '1',
    '-subj',
    '/CN=localhost',
    '-addext',
    'subjectAltName=DNS:localhost,IP:127.0.0.1',
    '-keyout',
    path.join(certDir, 'key.pem'),
    '-out',
    path.join(certDir, 'cert.pem'),
  ]);
  // the drains trust the receivers' self-made certificate the way an operator would add a CA
  paas = await new PaasServer({
    NODE_EXTRA_CA_CERTS: path.join(certDir, 'cert.pem'),
    PAAS_LOG_DRAIN_BUFFER: '10',
    PAAS_LOG_DRAIN_TIMEOUT_MS: '1000',
  }).start();
  await deploy('kept', { web: 1, worker: 1 });
});

after(async () => {
  for (const s of servers) s.close();
  for (const m of mounts) await execa('umount', ['-l', m], { reject: false });
  await paas?.destroy();
  if (certDir) fs.rmSync(certDir, { recursive: true, force: true });
});

test('logs survive a redeploy and the removal of the old containers; --release, -p, -n and --since select across releases', async () => {
  await waitFor('the first tick of v1', async () => ticks(await lines('logs kept -n 1000')).length > 0);
  // the previous release's web container would stay paused for an instant rollback: this test needs it gone
  await ok('releases:set kept keep-warm 0');
  await ok('config:set kept MARK=two');
  await waitFor('the v1 containers removed', async () => (await containersOf('kept')).every((c) => c.Labels['paas.release'] !== '1'));
  await waitFor('a v2 tick', async () => ticks(await lines('logs kept --release v2 -n 1000')).length > 0);

  const all = await lines('logs kept -n 100000');
  assert.ok(
    all.some((l) => / web\.1: booting $/.test(l)),
    'the v1 boot line, from a removed container',
  );
  assert.ok(
    all.some((l) => / web\.1: to stderr $/.test(l)),
    'stderr is kept too',
  );
  assert.ok(all.some((l) => / web\.1: booting two$/.test(l)));
  for (const l of all) assert.match(l, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z (web|worker)\.1: /);

  const v1 = await lines('logs kept --release v1 -n 100000');
  assert.ok(v1.some((l) => / booting $/.test(l)));
  assert.ok(!v1.some((l) => /two/.test(l)), 'only v1 lines');
  const v1Ticks = ticks(v1);
  assert.deepEqual(
    v1Ticks,
    v1Ticks.map((_, i) => i + 1),
    'every tick of the removed v1 worker, in order',
  );

  const workers = await lines('logs kept -p worker -n 100000');
  assert.ok(workers.length > 0 && workers.every((l) => / worker\.1: tick \d+$/.test(l)));
  assert.equal((await lines('logs kept -n 3')).length, 3);
  const lastWeb = await lines('logs kept -p web -n 2 --release 2');
  assert.deepEqual(lastWeb.map((l) => l.replace(/^\S+ /, '')).sort(), ['web.1: booting two', 'web.1: to stderr two']);
  // v1 booted seconds ago: not in the last second, all of it in the last hour
  const recent = await lines('logs kept --since 1s -n 100000');
  assert.ok(!recent.some((l) => / booting $/.test(l)));
  assert.ok((await lines('logs kept --since 1h -n 100000')).some((l) => / booting $/.test(l)));
});

test('after a control-plane restart each container resumes where its stored lines end: nothing lost, nothing doubled', async () => {
  const before = Math.max(...ticks(await lines('logs kept --release v2 -p worker -n 100000')));
  await paas.stop('SIGUSR2');
  const worker = (await containersOf('kept')).find((c) => c.Labels['paas.process'] === 'worker' && c.State === 'running')!;
  // the worker keeps writing while nobody follows it
  await waitFor('ticks written while the control plane is down', async () => {
    const buf = (await dockerClient().getContainer(worker.Id).logs({ stdout: true, tail: 1 })) as unknown as Buffer;
    const m = /tick (\d+)/.exec(buf.toString());
    return m !== null && Number(m[1]) >= before + 4;
  });
  await paas.spawnServer();
  const got = await waitFor('ticks from after the restart', async () => {
    const t = ticks(await lines('logs kept --release v2 -p worker -n 100000'));
    return Math.max(...t) >= before + 8 ? t : null;
  });
  assert.deepEqual(
    got,
    got.map((_, i) => i + 1),
    'ticks 1..N, each once',
  );
});

test('retention: max-size rotates and drops the oldest segments, max-age drops old ones; the caps have host defaults', async () => {
  let r = await report('kept');
  assert.deepEqual([r.maxSize, r.maxAge, r.defaults], ['100m', '7d', ['max-size', 'max-age']]);
  assert.equal(await ok('logs:set --global max-age 14d'), 'Logs on this host: max-age 14d by default\n');
  assert.equal((await report('kept')).maxAge, '14d');
  assert.equal(await ok('logs:set kept max-size 4k'), 'Logs of kept: max-size 4k\n');
  r = await waitFor('the log trimmed to its cap', async () => {
    const x = await report('kept');
    return x.segments >= 3 && x.storedBytes <= 4096 + 1024 ? x : null;
  });
  assert.equal(r.maxSize, '4k');
  assert.deepEqual(r.defaults, ['max-age']);
  const all = await lines('logs kept -n 100000');
  assert.ok(!all.some((l) => / booting $/.test(l)), 'the oldest lines are gone');
  assert.ok(ticks(all).length > 0, 'the newest are kept');

  const dir = path.join(paas.dataDir, 'logs', 'apps', 'kept');
  const segs = () =>
    fs
      .readdirSync(dir)
      .filter((f) => f.endsWith('.log'))
      .sort();
  const oldest = segs()[0]!;
  const month = new Date(Date.now() - 30 * 86_400_000);
  fs.utimesSync(path.join(dir, oldest), month, month);
  assert.equal(await ok('logs:set kept max-age 1d'), 'Logs of kept: max-age 1d\n');
  assert.ok(!segs().includes(oldest), 'the segment last written a month ago is gone');
  assert.ok(segs().length >= 2, 'the recent ones stay');
  assert.equal(await ok('logs:set kept max-size'), 'Logs of kept: max-size the default\n');
  assert.equal((await report('kept')).maxSize, '100m');
});

test('a full disk under the log: the app keeps serving, lines are dropped and counted, nothing crashes', async () => {
  const dir = path.join(paas.dataDir, 'logs', 'apps', 'full');
  fs.mkdirSync(dir, { recursive: true });
  await execa('mount', ['-t', 'tmpfs', '-o', 'size=16k', 'tmpfs', dir]);
  mounts.push(dir);
  await ok('apps:create full');
  await ok('config:set full LINES=600');
  const repo = path.join(paas.dataDir, 'work', 'full');
  await commitFiles(repo, appFiles('full', { web: 1 }));
  const p = await push(paas, repo, 'full');
  assert.equal(p.exitCode, 0, p.output);
  const r = await waitFor('dropped lines counted', async () => {
    const x = await report('full');
    return x.droppedLines > 0 ? x : null;
  });
  assert.ok(r.storedBytes <= 16 * 1024);
  assert.match(await ok('logs:report full'), /Dropped lines: +\d+ \(log not writable/);
  assert.equal((await viaProxy(paas, 'full.paas.test')).body, 'full-serves\n');
  const kept = await lines('logs full -n 100000');
  assert.ok(kept.length > 0 && kept.length < 600, `some lines kept, the rest dropped (${kept.length})`);
  assert.equal((await report('kept')).droppedLines, 0, 'other apps are unaffected');
  assert.equal((await paas.ssh('apps:list')).exitCode, 0);
});

test('drains: syslog+tls gets RFC 5424 messages with octet counting; https gets logplex batches; the password is never shown', async () => {
  const frames: string[] = [];
  const syslogPort = await listen(
    tls.createServer(
      { key: fs.readFileSync(path.join(certDir, 'key.pem')), cert: fs.readFileSync(path.join(certDir, 'cert.pem')) },
      (s) => {
        let buf = Buffer.alloc(0);
        s.on('data', (d: Buffer) => {
          buf = Buffer.concat([buf, d]);
          for (let m = /^(\d+) /.exec(buf.toString('latin1')); m; m = /^(\d+) /.exec(buf.toString('latin1'))) {
            const len = Number(m[1]);
            if (buf.length < m[0].length + len) break;
            frames.push(buf.subarray(m[0].length, m[0].length + len).toString());
            buf = buf.subarray(m[0].length + len);
          }
        });
      },
    ),
  );
  assert.equal(
    await ok(`logs:set kept drain syslog+tls://localhost:${syslogPort}`),
    `Logs of kept: drain syslog+tls://localhost:${syslogPort}\n`,
  );
  await waitFor('a tick at the syslog receiver', async () => frames.some((f) => / tick \d+$/.test(f)));
  assert.match(
    frames.find((f) => / tick \d+$/.test(f))!,
    /^<14>1 \d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,6})?Z \S+ kept worker\.1 v2 - tick \d+$/,
  );

  const posts: Array<{ headers: http.IncomingHttpHeaders; body: string }> = [];
  const httpsPort = await listen(
    https.createServer(
      { key: fs.readFileSync(path.join(certDir, 'key.pem')), cert: fs.readFileSync(path.join(certDir, 'cert.pem')) },
      (req, res) => {
        let body = '';
        req.on('data', (d) => (body += d));
        req.on('end', () => {
          posts.push({ headers: req.headers, body });
          res.end('ok');
        });
      },
    ),
  );
  await ok(`logs:set kept drain https://user:s3cret@localhost:${httpsPort}/ingest`);
  const got = await waitFor('a batch at the https receiver', async () => posts.find((p) => /tick \d+/.test(p.body)));
  assert.equal(got.headers['content-type'], 'application/logplex-1');
  assert.equal(got.headers.authorization, `Basic ${Buffer.from('user:s3cret').toString('base64')}`);
  assert.equal(Number(got.headers['logplex-msg-count']), got.body.match(/<1[14]>1 /g)?.length);
  const text = await ok('logs:report kept');
  assert.match(text, new RegExp(`Drain: +https://user:\\*\\*\\*@localhost:${httpsPort}/ingest`));
  assert.doesNotMatch(text, /s3cret/);
  assert.ok((await report('kept')).drain.sent > 0);
});

test('a drain that never answers (TLS handshake, HTTP response) blocks nothing: lines past the buffer are dropped and counted', async () => {
  const silent: net.Socket[] = [];
  const hangPort = await listen(net.createServer((s) => silent.push(s)));
  await ok(`logs:set kept drain syslog+tls://127.0.0.1:${hangPort}`);
  const r = await waitFor('drops past the 10-line buffer', async () => {
    const x = await report('kept');
    return x.drain.dropped > 0 ? x : null;
  });
  assert.equal(r.drain.queued, 10);
  assert.equal(r.drain.sent, 0);
  assert.equal((await viaProxy(paas, 'kept.paas.test')).body, 'kept-serves\n', 'the app serves');
  const before = Math.max(...ticks(await lines('logs kept -p worker -n 100000')));
  await waitFor('the store keeps growing', async () => Math.max(...ticks(await lines('logs kept -p worker -n 10'))) > before);

  const hanging = await listen(http.createServer(() => undefined));
  await ok(`logs:set kept drain http://127.0.0.1:${hanging}/`);
  const h = await waitFor('an unanswered batch dropped', async () => {
    const x = await report('kept');
    return x.drain.dropped > 0 && x.drain.lastError ? x : null;
  });
  assert.match(h.drain.lastError, /no answer within 1000 ms/);
  assert.equal(await ok('logs:set kept drain off'), 'Logs of kept: drain off\n');
  assert.equal((await report('kept')).drain, null);
  for (const s of silent) s.destroy();
});

test('bad input is refused with one line and changes nothing', async () => {
  const was = await report('kept');
  await refused('logs:set kept max-size abc', /max-size must be a size from 4k to 100g .*got 'abc'; nothing was changed/);
  await refused('logs:set kept max-size 1k', /max-size must be a size from 4k/);
  await refused('logs:set kept max-age forever', /max-age must be a duration/);
  await refused(
    'logs:set kept drain ftp://x',
    /drain must be a syslog:\/\/, syslog\+tls:\/\/, https:\/\/ or http:\/\/ URL, got scheme 'ftp'/,
  );
  await refused('logs:set kept drain syslog://no-port', /a syslog drain is host:port only/);
  await refused('logs:set kept colour red', /unknown logs setting 'colour' \(use max-size, max-age, drain\)/);
  await refused('logs:set --global drain https://x.example', /unknown logs setting 'drain' \(use max-size, max-age\)/);
  await refused('logs kept --since yesterday', /--since must be a duration/);
  await refused('logs kept --release latest', /--release must be a release like v12/);
  const now = await report('kept');
  assert.deepEqual([now.maxSize, now.maxAge, now.drain, now.defaults], [was.maxSize, was.maxAge, was.drain, was.defaults]);
});

test("a developer key sees and sets only its own apps' logs", async () => {
  const dev = await paas.addDeveloper('dev', ['kept']);
  assert.ok(ticks((await paas.ssh('logs kept -n 5', { key: dev.priv })).stdout.split('\n')).length > 0);
  assert.equal((await paas.ssh('logs:set kept max-age 2d', { key: dev.priv })).exitCode, 0);
  for (const cmd of ['logs full -n 5', 'logs:report full', 'logs:set full drain https://evil.example/']) {
    const r = await paas.ssh(cmd, { key: dev.priv });
    assert.notEqual(r.exitCode, 0, cmd);
    assert.match(r.stderr, /key 'dev' has no access to app 'full'/);
  }
  // a developer may not aim a drain at the paas host itself or at cloud metadata
  for (const url of ['syslog://127.0.0.1:6379', 'http://169.254.169.254/latest/meta-data']) {
    const r = await paas.ssh(`logs:set kept drain ${url}`, { key: dev.priv });
    assert.equal(r.exitCode, 1, url);
    assert.match(r.stderr, /^error: a drain to \S+ \(this host or a link-local address\) needs an admin key; nothing was changed\n$/);
  }
  assert.equal((await report('kept')).drain, null);
  const g = await paas.ssh('logs:set --global max-size 1g', { key: dev.priv });
  assert.notEqual(g.exitCode, 0);
  assert.equal((await report('full')).drain, null);
  assert.equal((await report('kept')).maxSize, '100m');
});

test('apps:destroy removes the kept log with the app', async () => {
  const dir = path.join(paas.dataDir, 'logs', 'apps', 'kept');
  assert.ok(fs.readdirSync(dir).some((f) => f.endsWith('.log')));
  await ok('apps:destroy kept --force');
  assert.equal(fs.existsSync(dir), false);
  assert.notEqual((await paas.ssh('logs kept -n 5')).exitCode, 0, 'the app is gone');
});
