import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { dataPaths } from '../../src/config/server-config.js';
import { ProxyClient } from '../../src/proxy/control/proxy-client.js';
import { proxyProcessArgs } from './helpers/proxy.js';

// Every process of a real `paas proxy` (the primary and its cluster workers) holds nextTick's
// tick-object shapes from its start (src/proxy/process/tick-shapes.ts): a preload counts the tick
// objects an async hook caught before it was disabled, per process.

const HERE = path.dirname(fileURLToPath(import.meta.url));
const MAIN = path.resolve(HERE, '..', '..', 'src', 'main.ts');
const PRELOAD = path.join(HERE, 'fixtures', 'count-tick-hooks.cjs');
const TSX = import.meta.resolve('tsx');
const dirs: string[] = [];
let child: ChildProcess | null = null;

after(async () => {
  if (child?.pid) {
    try {
      process.kill(-child.pid, 'SIGKILL');
    } catch {}
  }
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

test('the primary and each worker of a real proxy hold both of nextTick shapes from the start', async () => {
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'paas-ticks-'));
  const counts = await mkdtemp(path.join(os.tmpdir(), 'paas-ticks-counts-'));
  dirs.push(dataDir, counts);
  fs.chmodSync(counts, 0o777);
  const args = proxyProcessArgs({ dataDir, httpPort: 0, workers: 2, logLevel: 'warn' });
  child = spawn(process.execPath, ['--import', TSX, '--require', PRELOAD, MAIN, 'proxy', ...args], {
    stdio: ['ignore', 'inherit', 'inherit'],
    detached: true,
    env: { ...process.env, TICK_HOOKS_DIR: counts },
  });
  const client = new ProxyClient(dataPaths(dataDir).proxySocket);
  const deadline = Date.now() + 60_000;
  let status = await client.status().catch(() => null);
  while (!(status && status.httpPort > 0)) {
    assert.ok(Date.now() < deadline, 'the proxy did not start');
    await new Promise((r) => setTimeout(r, 100));
    status = await client.status().catch(() => null);
  }
  // the primary and its one forked worker (the primary serves as a worker too)
  const written = () => fs.readdirSync(counts);
  while (written().length < 2) {
    assert.ok(Date.now() < deadline, `tick hooks seen in ${written().length} of 2 processes`);
    await new Promise((r) => setTimeout(r, 100));
  }
  const byPid = Object.fromEntries(written().map((p) => [p, Number(fs.readFileSync(path.join(counts, p), 'utf8'))]));
  assert.ok(String(status.pid) in byPid, `the primary ${status.pid} held none: ${JSON.stringify(byPid)}`);
  for (const [pid, n] of Object.entries(byPid)) assert.equal(n, 2, `process ${pid} caught ${n} tick objects`);
});
