import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { execa } from 'execa';
import { busyboxApp, commitFiles, push, viaProxy } from '../helpers/app-repo.js';
import { BUSYBOX_IMAGE, ensureBusyboxImage } from '../helpers/base-images.js';
import { dockerClient, requireDocker } from '../helpers/docker.js';
import { PaasServer, sshOptions } from '../helpers/paas-server.js';

// Day-to-day operations over real OpenSSH against a real `paas server` and Docker:
// config as releases, --no-restart, rollback, scale, ps:*, logs, run, domains.

const APP = 'ops1';
const HOST = `${APP}.paas.test`;
let paas: PaasServer;
let dir: string;

/** The web CMD prints a boot line so `logs` has something to show. */
const app = (marker: string) =>
  busyboxApp(marker, {
    Dockerfile: `FROM ${BUSYBOX_IMAGE}\nCOPY www /www\nRUN chmod +x /www/cgi-bin/env\nCMD echo "booting $APP_MARK"; exec httpd -f -p $PORT -h /www\n`,
  });

before(async () => {
  await requireDocker();
  await ensureBusyboxImage();
  paas = await new PaasServer().start();
  dir = path.join(paas.dataDir, 'work', APP);
  await commitFiles(dir, app('one'));
  const r = await push(paas, dir, APP);
  assert.equal(r.exitCode, 0, r.output);
});
after(async () => {
  await paas?.destroy();
});

const env = async (): Promise<Record<string, string>> => {
  const r = await viaProxy(paas, HOST, '/cgi-bin/env');
  assert.equal(r.status, 200, r.body);
  const out: Record<string, string> = {};
  for (const line of r.body.split('\n')) {
    const i = line.indexOf('=');
    if (i > 0) out[line.slice(0, i)] = line.slice(i + 1);
  }
  return out;
};

/** Requests `HOST` in a loop until stopped; returns the failures (anything but 200). */
function keepRequesting(): { stop: () => Promise<{ ok: number; failures: string[] }> } {
  let running = true;
  let ok = 0;
  const failures: string[] = [];
  const loop = (async () => {
    while (running) {
      try {
        const r = await viaProxy(paas, HOST, '/', 5000);
        if (r.status === 200) ok++;
        else failures.push(`${r.status} ${r.body.slice(0, 80)}`);
      } catch (e) {
        failures.push(String(e));
      }
    }
  })();
  return {
    stop: async () => {
      running = false;
      await loop;
      return { ok, failures };
    },
  };
}

const releases = async () =>
  JSON.parse((await paas.ssh(`releases ${APP} --json`)).stdout) as Array<{ version: number; status: string; configKeys: string[] }>;

test('config:set makes a new release that the containers see, with zero downtime', async () => {
  const load = keepRequesting();
  const r = await paas.ssh(`config:set ${APP} GREETING='hello wörld' EQ=a=b=c EMPTY= APP_MARK=m1`);
  const { ok, failures } = await load.stop();
  assert.equal(r.exitCode, 0, r.stderr);
  assert.match(r.stdout, /v2 is live/);
  assert.deepEqual(failures, [], 'no failed request during the config rollout');
  assert.ok(ok > 5, `requests served during the rollout: ${ok}`);
  const e = await env();
  assert.equal(e.GREETING, 'hello wörld');
  assert.equal(e.EQ, 'a=b=c');
  assert.equal(e.EMPTY, '');
  assert.equal((await paas.ssh(`config:get ${APP} EQ`)).stdout, 'a=b=c\n');
  const show = JSON.parse((await paas.ssh(`config:show ${APP} --json`)).stdout);
  assert.deepEqual(show, { APP_MARK: 'm1', EMPTY: '', EQ: 'a=b=c', GREETING: 'hello wörld' });
  const rs = await releases();
  assert.deepEqual(
    rs.slice(0, 2).map((x) => [x.version, x.status]),
    [
      [2, 'live'],
      [1, 'superseded'],
    ],
  );
  // the value never reaches the server log
  const log = await import('node:fs').then((fs) => fs.readFileSync(path.join(paas.dataDir, 'server.log'), 'utf8'));
  assert.ok(!log.includes('hello wörld'), 'config value not logged');
});

test('config:set --no-restart records a pending release that ps:restart applies with zero downtime', async () => {
  const r = await paas.ssh(`config:set ${APP} LATER=1 --no-restart`);
  assert.equal(r.exitCode, 0, r.stderr);
  assert.match(r.stdout, /without a restart/);
  assert.equal((await env()).LATER, undefined, 'not rolled out');
  let rs = await releases();
  assert.deepEqual([rs[0].version, rs[0].status], [3, 'pending']);
  const load = keepRequesting();
  const rr = await paas.ssh(`ps:restart ${APP}`);
  const { failures } = await load.stop();
  assert.equal(rr.exitCode, 0, rr.stderr);
  assert.deepEqual(failures, []);
  assert.equal((await env()).LATER, '1');
  rs = await releases();
  assert.deepEqual([rs[0].version, rs[0].status], [3, 'live']);
});

test('bad config input changes nothing and exits 2 with one line', async () => {
  const before = (await paas.ssh(`config:show ${APP} --json`)).stdout;
  for (const cmd of [
    `config:set ${APP} 1BAD=x`,
    `config:set ${APP} NOEQUALS`,
    `config:set ${APP} GOOD=1 bad-key=2`,
    `config:unset ${APP} 'A B'`,
    `config:set ${APP}`,
  ]) {
    const r = await paas.ssh(cmd);
    assert.equal(r.exitCode, 2, `${cmd}: ${r.stderr}`);
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
  }
  assert.equal((await paas.ssh(`config:show ${APP} --json`)).stdout, before);
  assert.equal((await releases())[0].version, 3);
  assert.equal((await paas.ssh(`config:get ${APP} NOPE`)).exitCode, 1);
});

test('releases:rollback restores image, config and formation of vN; default goes to the previous release', async () => {
  await commitFiles(dir, { 'www/index.html': 'two\n' });
  const p = await push(paas, dir, APP);
  assert.equal(p.exitCode, 0, p.output);
  assert.equal((await viaProxy(paas, HOST)).body, 'two\n'); // v4
  let r = await paas.ssh(`releases:rollback ${APP} v1`);
  assert.equal(r.exitCode, 0, r.stderr);
  assert.match(r.stdout, /Rolled back ops1 to v1: v5 is live/);
  assert.equal((await viaProxy(paas, HOST)).body, 'one\n');
  let e = await env();
  assert.equal(e.GREETING, undefined, 'v1 had no config');
  assert.deepEqual(JSON.parse((await paas.ssh(`config:show ${APP} --json`)).stdout), {});
  r = await paas.ssh(`releases:rollback ${APP}`);
  assert.equal(r.exitCode, 0, r.stderr);
  assert.match(r.stdout, /to v4: v6 is live/);
  assert.equal((await viaProxy(paas, HOST)).body, 'two\n');
  e = await env();
  assert.equal(e.GREETING, 'hello wörld');
  assert.equal(e.LATER, '1');
  assert.equal((await paas.ssh(`releases:rollback ${APP} v99`)).exitCode, 1);
  assert.equal((await paas.ssh(`releases:rollback ${APP} banana`)).exitCode, 2);
  const text = await paas.ssh(`releases ${APP}`);
  assert.match(text.stdout, /v6\s+live\s+.*Rollback to v4/);
});

test('rolling back to a release whose image was pruned fails with a clear line and keeps serving', async () => {
  await dockerClient().getImage(`paas/${APP}:v1`).remove({ force: true });
  const r = await paas.ssh(`releases:rollback ${APP} v1`);
  assert.equal(r.exitCode, 1);
  assert.match(r.stderr, /v1 of 'ops1' cannot be restored: its image paas\/ops1:v1 was pruned/);
  assert.equal((await viaProxy(paas, HOST)).body, 'two\n');
  assert.equal((await releases())[0].status, 'live');
});

const hostnames = async (n: number) => {
  const seen = new Set<string>();
  for (let i = 0; i < n; i++) seen.add((await env()).HOSTNAME);
  return seen;
};

test('apps:scale web=3 then web=1, health-gated; bad input is refused', async () => {
  let r = await paas.ssh(`apps:scale ${APP} web=3`);
  assert.equal(r.exitCode, 0, r.stderr);
  assert.match(r.stdout, /scaled to web=3/);
  assert.equal((await hostnames(30)).size, 3);
  const load = keepRequesting();
  r = await paas.ssh(`ps:scale ${APP} web=1`);
  const { failures } = await load.stop();
  assert.equal(r.exitCode, 0, r.stderr);
  assert.deepEqual(failures, []);
  assert.equal((await hostnames(10)).size, 1);
  for (const bad of ['web=abc', 'web=-1', 'nope=1', 'web=999', 'web', '=3']) {
    const x = await paas.ssh(`apps:scale ${APP} ${bad}`);
    assert.equal(x.exitCode, 2, `${bad}: ${x.stderr}`);
  }
  const report = JSON.parse((await paas.ssh(`ps:report ${APP} --json`)).stdout);
  assert.deepEqual(report.formation, { web: 1 });
  assert.equal(report.containers.length, 1);
  const [c] = report.containers;
  assert.equal(c.process, 'web');
  assert.equal(c.state, 'running');
  assert.equal(typeof c.memoryBytes, 'number');
  assert.equal(typeof c.cpuPercent, 'number');
  assert.equal(typeof c.uptimeSeconds, 'number');
});

test('ps:stop takes the app down and ps:start brings it back', async () => {
  let r = await paas.ssh(`ps:stop ${APP}`);
  assert.equal(r.exitCode, 0, r.stderr);
  assert.notEqual((await viaProxy(paas, HOST)).status, 200);
  const rep = JSON.parse((await paas.ssh(`ps:report ${APP} --json`)).stdout);
  assert.equal(rep.stopped, true);
  assert.equal(rep.containers.length, 0);
  r = await paas.ssh(`ps:start ${APP}`);
  assert.equal(r.exitCode, 0, r.stderr);
  assert.match(r.stdout, /web=1/);
  assert.equal((await viaProxy(paas, HOST)).status, 200);
});

test('logs -n shows prefixed lines; run gives output and exit code', async () => {
  const l = await paas.ssh(`logs ${APP} -n 5`);
  assert.equal(l.exitCode, 0, l.stderr);
  assert.match(l.stdout, /web\.1: booting m1/);
  assert.equal((await paas.ssh(`logs ${APP} -n x`)).exitCode, 2);
  let r = await paas.ssh(`run ${APP} echo hi '$GREETING'`);
  assert.equal(r.exitCode, 0, r.stderr);
  assert.equal(r.stdout.replace(/\r/g, ''), 'hi hello wörld\n');
  r = await paas.ssh(`run ${APP} sh -c 'echo out; exit 3'`);
  assert.equal(r.exitCode, 3);
  assert.match(r.stdout, /out/);
  const rep = JSON.parse((await paas.ssh(`ps:report ${APP} --json`)).stdout);
  assert.equal(rep.containers.filter((c: { oneOff: boolean }) => c.oneOff).length, 0, 'one-off containers removed');
});

test('logs -t follows across a restart and ends when the client disconnects', async () => {
  const child = execa('ssh', [...sshOptions(paas.key.priv, paas.ports.ssh), 'paas@127.0.0.1', `logs ${APP} -t -n 1`], {
    reject: false,
    all: true,
  });
  let out = '';
  child.all?.on('data', (d: Buffer) => (out += d.toString()));
  const waitFor = async (re: RegExp, ms: number) => {
    const deadline = Date.now() + ms;
    while (!re.test(out) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    return re.test(out);
  };
  assert.ok(await waitFor(/web\.1: booting/, 10_000), out);
  const first = out.match(/booting/g)?.length ?? 0;
  assert.equal((await paas.ssh(`ps:restart ${APP}`)).exitCode, 0);
  assert.ok(await waitFor(new RegExp(`(booting[\\s\\S]*){${first + 1}}`), 10_000), `new container's lines followed: ${out}`);
  assert.equal(child.exitCode, null, 'still following');
  child.kill('SIGTERM');
  await child;
});

test('domains:add routes a new Host; conflicts and bad names are refused', async () => {
  let r = await paas.ssh(`domains:add ${APP} www.example.test`);
  assert.equal(r.exitCode, 0, r.stderr);
  const res = await viaProxy(paas, 'www.example.test');
  assert.equal(res.status, 200);
  assert.equal(res.body, 'two\n');
  assert.match((await paas.ssh(`domains:list ${APP}`)).stdout, /www\.example\.test/);
  assert.equal((await paas.ssh('apps:create other')).exitCode, 0);
  r = await paas.ssh('domains:add other www.example.test');
  assert.equal(r.exitCode, 1);
  assert.match(r.stderr, /already routes to app 'ops1'/);
  assert.equal((await paas.ssh(`domains:add ${APP} 'bad_name!'`)).exitCode, 2);
  r = await paas.ssh(`domains:remove ${APP} www.example.test`);
  assert.equal(r.exitCode, 0, r.stderr);
  assert.notEqual((await viaProxy(paas, 'www.example.test')).status, 200);
});

test('checks:set and builder:set store settings; config before the first deploy just stores', async () => {
  let r = await paas.ssh(`checks:set ${APP} path=/ timeout=3 attempts=5 wait=1 --json`);
  assert.equal(r.exitCode, 0, r.stderr);
  assert.deepEqual(JSON.parse(r.stdout), { path: '/', timeout: 3, attempts: 5, wait: 1 });
  assert.equal((await paas.ssh(`checks:set ${APP} path=nope`)).exitCode, 2);
  assert.equal((await paas.ssh(`checks:set ${APP} colour=blue`)).exitCode, 2);
  r = await paas.ssh(`ps:restart ${APP}`);
  assert.equal(r.exitCode, 0, r.stderr);
  assert.match(r.stdout, /GET \//);
  assert.equal((await paas.ssh(`builder:set ${APP} pack`)).exitCode, 0);
  assert.equal((await paas.ssh(`builder:set ${APP} auto`)).exitCode, 0);
  assert.equal((await paas.ssh(`builder:set ${APP} gradle`)).exitCode, 2);
  r = await paas.ssh('config:set other FOO=bar');
  assert.equal(r.exitCode, 0, r.stderr);
  assert.match(r.stdout, /first deploy/);
  assert.equal((await paas.ssh('config:get other FOO')).stdout, 'bar\n');
  assert.deepEqual(await (async () => JSON.parse((await paas.ssh('releases other --json')).stdout))(), []);
});
