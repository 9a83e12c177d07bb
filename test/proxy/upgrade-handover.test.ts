import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { dataPaths } from '../../src/config/server-config.js';
import { ProxyClient } from '../../src/proxy/control/proxy-client.js';
import { fastCheck, proxyProcessArgs } from './helpers/proxy.js';
import { PROXY_NODE_FLAGS } from '../../src/proxy/process/proxy-node-flags.js';
import { startUpstream, type Upstream } from './helpers/upstream.js';

// An upgrade hands the running proxy's listening sockets (and control socket) to the new one,
// which it starts as its child: a load loop through the proxy sees no failed request, the old
// process drains and exits, and the new one answers the control socket.

const MAIN = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'src', 'main.ts');
const TSX = import.meta.resolve('tsx');
let up: Upstream;
const dirs: string[] = [];
const pids = new Set<number>();

before(async () => {
  up = await startUpstream('handover');
});
after(async () => {
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {}
  }
  await up?.close();
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

/** The node options of `pid` and of the processes it forked (its cluster workers): argv before the script. */
function nodeOptions(pid: number): string[][] {
  const kids = fs
    .readdirSync('/proc')
    .filter((e) => /^\d+$/.test(e))
    .filter((e) => {
      try {
        const stat = fs.readFileSync(`/proc/${e}/stat`, 'utf8');
        return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === pid;
      } catch {
        return false;
      }
    });
  return [pid, ...kids.map(Number)].map((p) => {
    const argv = fs.readFileSync(`/proc/${p}/cmdline`, 'utf8').split('\0');
    return argv.slice(1, argv.indexOf(MAIN));
  });
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function startProxyProcess(workers: number) {
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'paas-handover-'));
  dirs.push(dataDir);
  const args = proxyProcessArgs({ dataDir, httpPort: 0, workers, logLevel: 'info' });
  const child: ChildProcess = spawn(process.execPath, ['--import', TSX, MAIN, 'proxy', ...args], {
    stdio: ['ignore', 'inherit', 'inherit'],
    detached: true,
  });
  pids.add(child.pid!);
  const client = new ProxyClient(dataPaths(dataDir).proxySocket);
  const deadline = Date.now() + 60_000;
  for (;;) {
    const s = await client.status().catch(() => null);
    if (s && s.httpPort > 0) return { dataDir, args, client, port: s.httpPort, pid: s.pid };
    if (Date.now() > deadline) throw new Error('proxy did not start');
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** GETs in a loop on fresh connections until stopped; returns [ok, failures]. */
function loadLoop(port: number) {
  let stop = false;
  let ok = 0;
  const failures: string[] = [];
  const one = () =>
    new Promise<void>((resolve) => {
      const req = http.get({ host: '127.0.0.1', port, path: '/load', headers: { host: 'ho.test' }, agent: false }, (res) => {
        res.resume();
        res.on('end', () => {
          if (res.statusCode === 200) ok++;
          else failures.push(`status ${res.statusCode}`);
          resolve();
        });
      });
      req.on('error', (e) => {
        failures.push(e.message);
        resolve();
      });
    });
  const loops = Array.from({ length: 4 }, async () => {
    while (!stop) await one();
  });
  return {
    stop: async () => {
      stop = true;
      await Promise.all(loops);
      return { ok, failures };
    },
  };
}

for (const workers of [1, 2]) {
  test(`an upgrade hands the sockets over with no failed request (${workers} worker(s))`, { timeout: 120_000 }, async () => {
    const p = await startProxyProcess(workers);
    await p.client.deploy('ho', { hosts: ['ho.test'], targets: [up.address], healthCheck: fastCheck });
    const load = loadLoop(p.port);
    await new Promise((r) => setTimeout(r, 500));
    const { pid } = await p.client.handOver({ main: MAIN, execArgv: ['--import', TSX], args: p.args });
    pids.add(pid);
    assert.notEqual(pid, p.pid);
    const after = await p.client.status();
    assert.equal(after.pid, pid, 'the control socket is answered by the successor');
    assert.equal(after.httpPort, p.port, 'same port');
    // the old proxy drains and exits
    const deadline = Date.now() + 15_000;
    while (alive(p.pid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    assert.ok(!alive(p.pid), 'the old proxy exited');
    await new Promise((r) => setTimeout(r, 500));
    const { ok, failures } = await load.stop();
    assert.deepEqual(failures, [], `${failures.length} failed of ${ok + failures.length}`);
    assert.ok(ok > 20, `only ${ok} requests`);
    // the request did not name the proxy's node options: the successor and its workers run with them anyway
    const options = nodeOptions(pid);
    assert.equal(options.length, workers, `the successor and its ${workers - 1} forked worker(s)`);
    for (const o of options) for (const flag of PROXY_NODE_FLAGS) assert.ok(o.includes(flag), `${flag} in ${o.join(' ')}`);
    // the successor routes, keeps the routes and takes deploys
    const report = await p.client.report();
    assert.deepEqual(
      report.services.map((s) => s.name),
      ['ho'],
    );
    await p.client.deploy('ho', { hosts: ['ho.test', 'ho2.test'], targets: [up.address], healthCheck: fastCheck });
    process.kill(pid, 'SIGTERM');
  });
}
