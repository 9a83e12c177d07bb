import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { dataPaths } from '../../src/config/server-config.js';
import { ProxyClient } from '../../src/proxy/control/proxy-client.js';
import { fastCheck, request } from './helpers/proxy.js';
import { waitFor } from '../helpers/wait.js';
import { startUpstream, type Upstream } from './helpers/upstream.js';

const script = path.join(path.dirname(fileURLToPath(import.meta.url)), 'helpers', 'run-proxy.ts');
let dataDir: string;
let up: Upstream;
const children = new Set<ChildProcess>();

before(async () => {
  dataDir = await mkdtemp(path.join(os.tmpdir(), 'paas-proxy-restart-'));
  up = await startUpstream('persisted');
});

after(async () => {
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
  await up?.close();
  await rm(dataDir, { recursive: true, force: true });
});

async function startProcess(workers: number): Promise<{ child: ChildProcess; client: ProxyClient; port: number }> {
  const opts = { dataDir, httpPort: 0, httpsPort: 0, listen: '127.0.0.1', workers, logLevel: 'warn' };
  const child = spawn(process.execPath, ['--import', 'tsx', script, JSON.stringify(opts)], { stdio: ['ignore', 'ignore', 'inherit'] });
  children.add(child);
  const client = new ProxyClient(dataPaths(dataDir).proxySocket);
  const deadline = Date.now() + 60_000;
  for (;;) {
    try {
      const s = await client.status();
      if (s.pid === child.pid && s.httpPort > 0) return { child, client, port: s.httpPort };
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

test('routes persist across a proxy restart (2 cluster workers) and work before any deploy', async () => {
  const paths = dataPaths(dataDir);
  const first = await startProcess(2);
  assert.equal((await readFile(paths.proxyPid, 'utf8')).trim(), String(first.child.pid));
  assert.equal((await stat(paths.proxySocket)).mode & 0o777, 0o600);
  await first.client.deploy('keep', { hosts: ['keep.test'], targets: [up.address], healthCheck: fastCheck });
  for (let i = 0; i < 4; i++) assert.equal((await request(first.port, { host: 'keep.test' })).json().name, 'persisted');
  assert.equal(await stopProcess(first.child), 0);
  assert.equal(existsSync(paths.proxyPid), false, 'pid file left behind');

  const second = await startProcess(2);
  for (let i = 0; i < 4; i++) {
    const r = await request(second.port, { host: 'keep.test' });
    assert.equal(r.status, 200);
    assert.equal(r.json().name, 'persisted');
  }
  const list = await second.client.list();
  assert.deepEqual(
    list.map((s) => [s.name, s.targets]),
    [['keep', [up.address]]],
  );
  // a drain waits for in-flight requests in every worker
  const other = await startUpstream('other');
  try {
    const slow = Array.from({ length: 4 }, () => request(second.port, { host: 'keep.test', path: '/slow?ms=1500' }));
    await waitFor('the 4 slow requests in flight', async () => up.hits('/slow?ms=1500') === 4);
    const res = await second.client.deploy('keep', { hosts: ['keep.test'], targets: [other.address], healthCheck: fastCheck });
    assert.ok(res.drainedMs >= 300, `drainedMs ${res.drainedMs}`);
    for (const r of await Promise.all(slow)) assert.equal(r.json().name, 'persisted');
    for (let i = 0; i < 4; i++) assert.equal((await request(second.port, { host: 'keep.test' })).json().name, 'other');
    await second.client.deploy('keep', { hosts: ['keep.test'], targets: [up.address], healthCheck: fastCheck });
  } finally {
    await other.close();
  }
  assert.equal(await stopProcess(second.child), 0);
});

test('a slow request in flight finishes when the proxy is stopped with SIGTERM', async () => {
  const p = await startProcess(1);
  // its own route: it does not rely on the one the test above persisted
  await p.client.deploy('inflight', { hosts: ['inflight.test'], targets: [up.address], healthCheck: fastCheck });
  const slow = request(p.port, { host: 'inflight.test', path: '/slow?ms=800' });
  await waitFor('the slow request in flight', async () => up.hits('/slow?ms=800') === 1);
  const exited = stopProcess(p.child);
  const r = await slow;
  assert.equal(r.status, 200);
  assert.equal(await exited, 0);
});
