// A real `paas server` run as root starts its proxy (2 cluster workers) as root, and the proxy
// becomes the `paas-proxy` system user once its ports and control socket are bound: real,
// effective, saved and fs ids of every thread of the primary and of each worker, no groups. That
// user owns the proxy's folders, cannot read the database or the SSH host key, writes routes.json
// itself, and the routes survive a restart of the whole server.
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { dataPaths } from '../../src/config/server-config.js';
import { ProxyClient } from '../../src/proxy/control/proxy-client.js';
import { PaasServer } from '../helpers/paas-server.js';
import { fastCheck, request } from '../proxy/helpers/proxy.js';
import { startUpstream, type Upstream } from '../proxy/helpers/upstream.js';
import { DASHBOARD_SERVICE } from '../../src/dashboard/dashboard-route.js';
import { PROXY_NODE_FLAGS } from '../../src/proxy/process/proxy-node-flags.js';

const isRoot = process.getuid?.() === 0;

function passwd(name: string): { uid: number; gid: number } {
  const [, , uid, gid] = execFileSync('getent', ['passwd', name], { encoding: 'utf8' }).trim().split(':');
  return { uid: Number(uid), gid: Number(gid) };
}

/** The pids whose parent is `pid` (the proxy's cluster workers). */
function children(pid: number): number[] {
  const out: number[] = [];
  for (const e of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(e)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${e}/stat`, 'utf8');
      if (Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === pid) out.push(Number(e));
    } catch {
      // exited meanwhile
    }
  }
  return out.sort((a, b) => a - b);
}

/** Uid/Gid/Groups lines of every thread of `pid`: [tid, 'Uid: r e s fs', 'Gid: …', 'Groups: …']. */
function threadIds(pid: number): string[][] {
  return fs
    .readdirSync(`/proc/${pid}/task`)
    .sort()
    .map((tid) => {
      const status = fs.readFileSync(`/proc/${pid}/task/${tid}/status`, 'utf8');
      const line = (key: string) => (status.match(new RegExp(`^${key}:(.*)$`, 'm'))?.[1] ?? '').trim().split(/\s+/).join(' ');
      return [tid, `Uid: ${line('Uid')}`, `Gid: ${line('Gid')}`, `Groups: ${line('Groups')}`];
    });
}

describe('the proxy drops root', { skip: isRoot ? false : 'needs root' }, () => {
  let server: PaasServer;
  let up: Upstream;

  before(async () => {
    server = await new PaasServer({ PAAS_PROXY_WORKERS: '2' }).start();
    up = await startUpstream('persisted');
  });

  after(async () => {
    await server?.destroy();
    await up?.close();
  });

  test('both workers (the primary, which serves too, and its forked worker) run as paas-proxy in every id of every thread', () => {
    const user = passwd('paas-proxy');
    const primary = server.proxyPid()!;
    const workers = children(primary);
    assert.equal(workers.length, 1, `forked workers of ${primary}: ${workers.join(',')}`);
    const ids = (u: { uid: number; gid: number }) => [
      `Uid: ${u.uid} ${u.uid} ${u.uid} ${u.uid}`,
      `Gid: ${u.gid} ${u.gid} ${u.gid} ${u.gid}`,
      'Groups: ',
    ];
    for (const pid of [primary, ...workers]) {
      const threads = threadIds(pid);
      assert.ok(threads.length > 1, `pid ${pid} has its threads`);
      for (const [tid, ...lines] of threads) assert.deepEqual(lines, ids(user), `pid ${pid} thread ${tid}`);
    }
    // and the control plane, which spawned it, is still root
    assert.deepEqual(threadIds(server.pid)[0].slice(1), ids({ uid: 0, gid: 0 }));
  });

  test("both proxy processes run with the proxy's node options (the control plane's spawn, inherited by the cluster worker)", () => {
    const primary = server.proxyPid()!;
    for (const pid of [primary, ...children(primary)]) {
      const argv = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
      const before = argv.slice(1, argv.indexOf('proxy'));
      for (const flag of PROXY_NODE_FLAGS) assert.ok(before.includes(flag), `pid ${pid}: ${argv.join(' ')}`);
    }
  });

  test('the proxy user owns its folders and cannot read the database or the host key', () => {
    const user = passwd('paas-proxy');
    const paths = dataPaths(server.dataDir);
    const owner = (p: string) => {
      const st = fs.statSync(p);
      return [st.uid, st.gid, (st.mode & 0o7777).toString(8)];
    };
    assert.deepEqual(owner(server.dataDir), [0, user.gid, '710']);
    assert.deepEqual(owner(path.dirname(paths.proxyState)), [user.uid, user.gid, '700']);
    assert.deepEqual(owner(paths.certs), [user.uid, user.gid, '700']);
    assert.deepEqual(owner(path.join(paths.certs, 'default.key')), [user.uid, user.gid, '600']);
    assert.deepEqual(owner(paths.db), [0, 0, '600']);
    assert.deepEqual(owner(paths.run), [0, 0, '700']);
    for (const file of [paths.db, paths.hostKey, paths.adminSocket]) {
      const r = spawnSync('runuser', ['-u', 'paas-proxy', '--', 'cat', file], { encoding: 'utf8' });
      assert.equal(r.status, 1, `cat ${file} as paas-proxy: ${r.stdout}`);
      assert.equal(r.stderr.trim(), `cat: ${file}: Permission denied`);
    }
    const cert = spawnSync('runuser', ['-u', 'paas-proxy', '--', 'head', '-c', '27', path.join(paths.certs, 'default.key')], {
      encoding: 'utf8',
    });
    assert.equal(cert.stdout, '-----BEGIN PRIVATE KEY-----');
  });

  test('routes.json is written by the proxy user and the routes survive a restart of the server', async () => {
    const user = passwd('paas-proxy');
    const paths = dataPaths(server.dataDir);
    const client = new ProxyClient(paths.proxySocket);
    await client.deploy('keep', { hosts: ['keep.test'], targets: [up.address], healthCheck: fastCheck });
    for (let i = 0; i < 4; i++) assert.equal((await request(server.ports.http, { host: 'keep.test' })).json().name, 'persisted');
    const st = fs.statSync(paths.proxyState);
    assert.deepEqual([st.uid, st.gid, (st.mode & 0o777).toString(8)], [user.uid, user.gid, '600']);
    // besides the dashboard's own route (a proxy service of paas itself)
    const ownServices = () =>
      Object.keys(JSON.parse(fs.readFileSync(paths.proxyState, 'utf8')).services).filter((s) => s !== DASHBOARD_SERVICE);
    assert.deepEqual(ownServices(), ['keep']);

    const first = server.proxyPid()!;
    assert.equal(await server.stop('SIGTERM'), 0);
    assert.equal(fs.existsSync(`/proc/${first}`), false, 'the proxy stopped with the server');
    // the proxy cannot remove them from the root-only run folder: the control plane does
    assert.equal(fs.existsSync(paths.proxySocket), false, 'control socket removed');
    assert.equal(fs.existsSync(paths.proxyPid), false, 'proxy pid file removed');

    await server.spawnServer();
    const second = server.proxyPid()!;
    assert.notEqual(second, first);
    assert.equal(threadIds(second)[0][1], `Uid: ${user.uid} ${user.uid} ${user.uid} ${user.uid}`);
    for (let i = 0; i < 4; i++) {
      const r = await request(server.ports.http, { host: 'keep.test' });
      assert.equal(r.status, 200);
      assert.equal(r.json().name, 'persisted');
    }
    await client.remove('keep');
    assert.deepEqual(ownServices(), []);
  });
});
