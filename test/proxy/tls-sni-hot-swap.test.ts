import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { dataPaths } from '../../src/config/server-config.js';
import { ProxyClient } from '../../src/proxy/control/proxy-client.js';
import { tlsStateFile } from '../../src/proxy/tls/tls-state-file.js';
import type { TlsState } from '../../src/proxy/tls/tls-state.js';
import { httpsGet as get, loadLoop, serialOf, servedCert as served } from '../helpers/https-client.js';
import { makeCa, makeCert, type TestCa, type TestCert } from '../helpers/test-certs.js';
import { fastCheck, request } from './helpers/proxy.js';
import { startUpstream, type Upstream } from './helpers/upstream.js';

const script = path.join(path.dirname(fileURLToPath(import.meta.url)), 'helpers', 'run-proxy.ts');
let dataDir: string;
let up: Upstream;
let ca: TestCa;
let wild: TestCert;
let exact: TestCert;
let exact2: TestCert;
const children = new Set<ChildProcess>();

before(async () => {
  dataDir = await mkdtemp(path.join(os.tmpdir(), 'paas-proxy-tls-'));
  up = await startUpstream('tls-app');
  ca = await makeCa(path.join(dataDir, 'ca'));
  wild = await makeCert(ca, ['*.example.test']);
  exact = await makeCert(ca, ['a.example.test']);
  exact2 = await makeCert(ca, ['a.example.test']);
});

after(async () => {
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
  await up?.close();
  await rm(dataDir, { recursive: true, force: true });
});

async function startProcess(workers: number): Promise<{ child: ChildProcess; client: ProxyClient; http: number; https: number }> {
  const opts = { dataDir, httpPort: 0, httpsPort: 0, listen: '127.0.0.1', workers, logLevel: 'warn' };
  const child = spawn(process.execPath, ['--import', 'tsx', script, JSON.stringify(opts)], { stdio: ['ignore', 'ignore', 'inherit'] });
  children.add(child);
  const client = new ProxyClient(dataPaths(dataDir).proxySocket);
  const deadline = Date.now() + 60_000;
  for (;;) {
    try {
      const s = await client.status();
      if (s.pid === child.pid && s.httpPort > 0) return { child, client, http: s.httpPort, https: s.httpsPort };
    } catch {
      // not up yet
    }
    if (child.exitCode !== null) throw new Error(`proxy exited with ${child.exitCode}`);
    if (Date.now() > deadline) throw new Error('proxy did not start within 60 s');
    await new Promise((r) => setTimeout(r, 100));
  }
}

function stopProcess(child: ChildProcess): Promise<number | null> {
  return new Promise((resolve) => {
    if (child.exitCode !== null) return resolve(child.exitCode);
    child.once('exit', (code) => resolve(code));
    child.kill('SIGTERM');
  });
}

function httpsGet(port: number, host: string, agent: https.Agent | false = false) {
  return get(port, host, { ca: ca.pem, agent });
}

function state(aCert: TestCert): TlsState {
  return {
    certs: [
      { id: 'app/custom', cert: aCert.cert, key: aCert.key },
      { id: 'app/wild', cert: wild.cert, key: wild.key },
    ],
    hosts: {
      'a.example.test': { cert: 'app/custom', redirect: true, hsts: true },
      'b.example.test': { cert: 'app/wild', redirect: false, hsts: false },
    },
  };
}

test('SNI picks exact, then wildcard, then default; redirect, HSTS and ACME challenges in every worker; a swap under load drops nothing; the state survives a restart', async () => {
  const p = await startProcess(2);
  await p.client.deploy('app', {
    hosts: ['a.example.test', 'b.example.test'],
    targets: [up.address],
    healthCheck: fastCheck,
  });
  // before any certificate: the default one, no redirect
  assert.equal((await served(p.https, 'a.example.test')).cn, 'paas-default');
  assert.equal((await request(p.http, { host: 'a.example.test' })).status, 200);

  await p.client.setTls(state(exact));
  assert.equal((await served(p.https, 'a.example.test')).serial, serialOf(exact.cert), 'exact host gets its own certificate');
  assert.equal((await served(p.https, 'b.example.test')).serial, serialOf(wild.cert), 'listed host gets the wildcard');
  assert.equal(
    (await served(p.https, 'z.example.test')).serial,
    serialOf(wild.cert),
    'a host no service routes, under the wildcard, gets it',
  );
  assert.equal((await served(p.https, 'x.y.example.test')).cn, 'paas-default', 'a wildcard covers one label only');
  await p.client.deploy('other', { hosts: ['y.example.test'], targets: [up.address], healthCheck: fastCheck });
  assert.equal((await served(p.https, 'y.example.test')).cn, 'paas-default', "another service's host never gets this wildcard");
  assert.equal((await served(p.https, 'other.test')).cn, 'paas-default');
  assert.equal((await served(p.https, undefined)).cn, 'paas-default', 'no SNI: the default');

  // HTTPS through the proxy, verified against the CA; HSTS on a only; the upstream is told https
  const a = await httpsGet(p.https, 'a.example.test');
  assert.equal(a.status, 200);
  assert.equal(a.headers['strict-transport-security'], 'max-age=31536000');
  assert.equal(JSON.parse(a.body).headers['x-forwarded-proto'], 'https');
  const b = await httpsGet(p.https, 'b.example.test');
  assert.equal(b.status, 200);
  assert.equal(b.headers['strict-transport-security'], undefined);

  // plain HTTP: 308 with path and query kept on a; b has redirect off
  const r = await request(p.http, { host: `a.example.test:${p.http}`, path: '/x/y?q=1&r=2' });
  assert.equal(r.status, 308);
  assert.equal(r.headers.location, `https://a.example.test:${p.https}/x/y?q=1&r=2`);
  assert.equal((await request(p.http, { host: 'b.example.test' })).status, 200);

  // ACME challenge: answered by every worker (fresh connections spread over both), for any host, before the redirect
  await p.client.setChallenge('tok_EN-1', 'tok_EN-1.thumb');
  for (let i = 0; i < 6; i++) {
    for (const host of ['a.example.test', 'no-app.example.test']) {
      const c = await request(p.http, { host, path: '/.well-known/acme-challenge/tok_EN-1' });
      assert.equal(c.status, 200, `challenge on ${host}`);
      assert.equal(c.body, 'tok_EN-1.thumb');
    }
  }
  await p.client.removeChallenge('tok_EN-1');
  assert.equal((await request(p.http, { host: 'no-app.example.test', path: '/.well-known/acme-challenge/tok_EN-1' })).status, 503);
  const notPending = await request(p.http, { host: 'a.example.test', path: '/.well-known/acme-challenge/tok_EN-1' });
  assert.equal(notPending.status, 200, 'the challenge path is never redirected: the app answers it');
  assert.equal(notPending.json().url, '/.well-known/acme-challenge/tok_EN-1');

  // bad state: refused whole, nothing changed
  await assert.rejects(
    p.client.setTls({
      ...state(exact),
      certs: [
        { id: 'app/custom', cert: exact.cert, key: wild.key },
        { id: 'app/wild', cert: wild.cert, key: wild.key },
      ],
    }),
    /does not match/,
  );
  await assert.rejects(p.client.setChallenge('bad token!', 'x'), /not an ACME token/);
  assert.equal((await served(p.https, 'a.example.test')).serial, serialOf(exact.cert));

  // hot swap under load: keep-alive and fresh connections keep getting answers; new handshakes get the new serial
  const agent = new https.Agent({ keepAlive: true, maxSockets: 4 });
  const run = await loadLoop(
    4,
    (i) => httpsGet(p.https, 'a.example.test', i < 2 ? agent : false),
    async () => {
      await new Promise((r) => setTimeout(r, 300));
      await p.client.setTls(state(exact2));
      await new Promise((r) => setTimeout(r, 500));
    },
  );
  agent.destroy();
  assert.equal(run.failures, 0, `${run.failures} failed requests during the swap (${run.ok} ok): ${run.reasons.join('; ')}`);
  assert.ok(
    run.serials.has(serialOf(exact.cert)) && run.serials.has(serialOf(exact2.cert)),
    'both certificates were served during the run',
  );
  assert.equal((await served(p.https, 'a.example.test')).serial, serialOf(exact2.cert));

  // persisted, mode 600, and served after a restart before anyone sends the state again
  const st = await stat(tlsStateFile(dataDir));
  assert.equal(st.mode & 0o777, 0o600);
  assert.equal(await stopProcess(p.child), 0);
  const q = await startProcess(2);
  assert.equal((await served(q.https, 'a.example.test')).serial, serialOf(exact2.cert));
  assert.equal((await request(q.http, { host: 'a.example.test' })).status, 308);
  const report = await q.client.tls();
  assert.deepEqual(
    report.certs.map((c) => c.id),
    ['app/custom', 'app/wild'],
  );
  assert.equal(await stopProcess(q.child), 0);
});
