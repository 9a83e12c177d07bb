import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { execa } from 'execa';
import { busyboxApp, commitFiles, healthAppJson, push, viaProxy } from '../helpers/app-repo.js';
import { BUSYBOX_IMAGE, ensureBusyboxImage } from '../helpers/base-images.js';
import { dockerClient, requireDocker, runFilter } from '../helpers/docker.js';
import { PaasServer, sshOptions } from '../helpers/paas-server.js';
import { waitFor } from '../helpers/wait.js';

// Day-to-day operations over real OpenSSH against a real `paas server` and Docker:
// config as releases, --no-restart, config:unset, rollback, scale, ps:*, logs, run, domains.
// Every test deploys its own app, so none relies on the releases, config or routes another left.

let paas: PaasServer;

/** The web CMD prints a boot line so `logs` has something to show; `/` is the health path. */
const appFiles = (marker: string) =>
  busyboxApp(marker, {
    Dockerfile: `FROM ${BUSYBOX_IMAGE}\nCOPY www /www\nRUN chmod +x /www/cgi-bin/env\nCMD echo "booting $APP_MARK"; exec httpd -f -p $PORT -h /www\n`,
    'app.json': healthAppJson(),
  });

before(async () => {
  await requireDocker();
  await ensureBusyboxImage();
  paas = await new PaasServer().start();
});
after(async () => {
  await paas?.destroy();
});

/** Pushes a new app serving `marker` at `<app>.paas.test`: its release v1. Returns the work tree. */
async function deploy(app: string, marker: string): Promise<string> {
  const dir = path.join(paas.dataDir, 'work', app);
  await commitFiles(dir, appFiles(marker));
  const r = await push(paas, dir, app);
  assert.equal(r.exitCode, 0, r.output);
  assert.match(r.output, /Release v1 live/);
  return dir;
}

const hostOf = (app: string) => `${app}.paas.test`;

const env = async (app: string): Promise<Record<string, string>> => {
  const r = await viaProxy(paas, hostOf(app), '/cgi-bin/env');
  assert.equal(r.status, 200, r.body);
  const out: Record<string, string> = {};
  for (const line of r.body.split('\n')) {
    const i = line.indexOf('=');
    if (i > 0) out[line.slice(0, i)] = line.slice(i + 1);
  }
  return out;
};

/**
 * Requests the app in a loop until stopped; returns the failures (anything but 200). It starts
 * once a first request succeeded, and stop() waits for one more success after the command, so
 * the load spans the whole command whatever the machine's speed.
 */
async function keepRequesting(app: string): Promise<{ stop: () => Promise<{ ok: number; failures: string[] }> }> {
  let running = true;
  let ok = 0;
  const failures: string[] = [];
  const loop = (async () => {
    while (running) {
      try {
        const r = await viaProxy(paas, hostOf(app), '/', 5000);
        if (r.status === 200) ok++;
        else failures.push(`${r.status} ${r.body.slice(0, 80)}`);
      } catch (e) {
        failures.push(String(e));
      }
    }
  })();
  await waitFor('a first request to succeed', async () => ok > 0 || failures.length > 0);
  return {
    stop: async () => {
      const seen = ok;
      await waitFor('a request to succeed after the command', async () => ok > seen || failures.length > 0);
      running = false;
      await loop;
      return { ok, failures };
    },
  };
}

const releases = async (app: string) =>
  JSON.parse((await paas.ssh(`releases ${app} --json`)).stdout) as Array<{ version: number; status: string; configKeys: string[] }>;

test('config:set makes a new release that the containers see, with zero downtime', async () => {
  const app = 'cfg-set';
  await deploy(app, 'one');
  const load = await keepRequesting(app);
  const r = await paas.ssh(`config:set ${app} GREETING='hello wörld' EQ=a=b=c EMPTY= APP_MARK=m1`);
  const { failures } = await load.stop();
  assert.equal(r.exitCode, 0, r.stderr);
  assert.match(r.stdout, /Set GREETING, EQ, EMPTY, APP_MARK on cfg-set: v2 is live\n$/);
  assert.deepEqual(failures, [], 'no failed request during the config rollout');
  const e = await env(app);
  assert.equal(e.GREETING, 'hello wörld');
  assert.equal(e.EQ, 'a=b=c');
  assert.equal(e.EMPTY, '');
  assert.equal((await paas.ssh(`config:get ${app} EQ`)).stdout, 'a=b=c\n');
  const show = JSON.parse((await paas.ssh(`config:show ${app} --json`)).stdout);
  assert.deepEqual(show, { APP_MARK: 'm1', EMPTY: '', EQ: 'a=b=c', GREETING: 'hello wörld' });
  assert.deepEqual(
    (await releases(app)).map((x) => [x.version, x.status]),
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
  const app = 'cfg-later';
  await deploy(app, 'one');
  const r = await paas.ssh(`config:set ${app} LATER=1 --no-restart`);
  assert.equal(r.exitCode, 0, r.stderr);
  assert.equal(r.stdout, 'Set LATER on cfg-later: recorded as v2 without a restart (run ps:restart cfg-later to apply)\n');
  assert.equal((await env(app)).LATER, undefined, 'not rolled out');
  let rs = await releases(app);
  assert.deepEqual([rs[0].version, rs[0].status], [2, 'pending']);
  const load = await keepRequesting(app);
  const rr = await paas.ssh(`ps:restart ${app}`);
  const { failures } = await load.stop();
  assert.equal(rr.exitCode, 0, rr.stderr);
  assert.deepEqual(failures, []);
  assert.equal((await env(app)).LATER, '1');
  rs = await releases(app);
  assert.deepEqual([rs[0].version, rs[0].status], [2, 'live']);
});

test('config:unset removes vars in a new release the containers see; unsetting a missing var changes nothing', async () => {
  const app = 'cfg-unset';
  await deploy(app, 'one');
  assert.equal((await paas.ssh(`config:set ${app} DROP_ME=1 KEEP=2 ALSO=3`)).exitCode, 0);
  assert.equal((await env(app)).DROP_ME, '1');
  const load = await keepRequesting(app);
  const r = await paas.ssh(`config:unset ${app} DROP_ME ALSO`);
  const { failures } = await load.stop();
  assert.equal(r.exitCode, 0, r.stderr);
  assert.equal(r.stdout.split('\n').at(-2), 'Unset DROP_ME, ALSO on cfg-unset: v3 is live');
  assert.deepEqual(failures, [], 'no failed request during the rollout');
  const e = await env(app);
  assert.equal(e.DROP_ME, undefined);
  assert.equal(e.ALSO, undefined);
  assert.equal(e.KEEP, '2');
  assert.deepEqual(JSON.parse((await paas.ssh(`config:show ${app} --json`)).stdout), { KEEP: '2' });
  assert.equal((await paas.ssh(`config:get ${app} DROP_ME`)).exitCode, 1);
  let rs = await releases(app);
  assert.deepEqual([rs[0].version, rs[0].status, rs[0].configKeys], [3, 'live', ['KEEP']]);
  // nothing to unset: no release
  const again = await paas.ssh(`config:unset ${app} DROP_ME`);
  assert.equal(again.exitCode, 0, again.stderr);
  assert.equal(again.stdout, 'No change: config is already like that\n');
  // --no-restart: recorded, applied by ps:restart
  const later = await paas.ssh(`config:unset ${app} KEEP --no-restart`);
  assert.equal(later.exitCode, 0, later.stderr);
  assert.equal(later.stdout, 'Unset KEEP on cfg-unset: recorded as v4 without a restart (run ps:restart cfg-unset to apply)\n');
  assert.equal((await env(app)).KEEP, '2', 'not rolled out yet');
  assert.equal((await paas.ssh(`ps:restart ${app}`)).exitCode, 0);
  assert.equal((await env(app)).KEEP, undefined);
  rs = await releases(app);
  assert.deepEqual(
    rs.map((x) => x.version),
    [4, 3, 2, 1],
  );
});

test('bad config input changes nothing and exits 2 with one line', async () => {
  const app = 'cfg-bad';
  await deploy(app, 'one');
  assert.equal((await paas.ssh(`config:set ${app} GOOD=yes`)).exitCode, 0);
  const before = (await paas.ssh(`config:show ${app} --json`)).stdout;
  for (const cmd of [
    `config:set ${app} 1BAD=x`,
    `config:set ${app} NOEQUALS`,
    `config:set ${app} GOOD=1 bad-key=2`,
    `config:unset ${app} 'A B'`,
    `config:unset ${app}`,
    `config:set ${app}`,
  ]) {
    const r = await paas.ssh(cmd);
    assert.equal(r.exitCode, 2, `${cmd}: ${r.stderr}`);
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
  }
  assert.equal((await paas.ssh(`config:show ${app} --json`)).stdout, before);
  assert.deepEqual(
    (await releases(app)).map((x) => x.version),
    [2, 1],
  );
  const missing = await paas.ssh(`config:get ${app} NOPE`);
  assert.equal(missing.exitCode, 1);
  assert.equal(missing.stderr, "error: config var NOPE is not set on 'cfg-bad'\n");
});

test('releases:rollback restores image, config and formation of vN; default goes to the previous release', async () => {
  const app = 'rb';
  const dir = await deploy(app, 'one'); // v1
  assert.equal((await paas.ssh(`config:set ${app} GREETING=hello LATER=1`)).exitCode, 0); // v2
  await commitFiles(dir, { 'www/index.html': 'two\n' });
  const p = await push(paas, dir, app);
  assert.equal(p.exitCode, 0, p.output);
  assert.match(p.output, /Release v3 live/);
  assert.equal((await viaProxy(paas, hostOf(app))).body, 'two\n');
  let r = await paas.ssh(`releases:rollback ${app} v1`);
  assert.equal(r.exitCode, 0, r.stderr);
  assert.match(r.stdout, /Rolled back rb to v1: v4 is live/);
  assert.equal((await viaProxy(paas, hostOf(app))).body, 'one\n');
  let e = await env(app);
  assert.equal(e.GREETING, undefined, 'v1 had no config');
  assert.deepEqual(JSON.parse((await paas.ssh(`config:show ${app} --json`)).stdout), {});
  r = await paas.ssh(`releases:rollback ${app}`);
  assert.equal(r.exitCode, 0, r.stderr);
  assert.match(r.stdout, /to v3: v5 is live/);
  assert.equal((await viaProxy(paas, hostOf(app))).body, 'two\n');
  e = await env(app);
  assert.equal(e.GREETING, 'hello');
  assert.equal(e.LATER, '1');
  assert.equal((await paas.ssh(`releases:rollback ${app} v99`)).exitCode, 1);
  assert.equal((await paas.ssh(`releases:rollback ${app} banana`)).exitCode, 2);
  const text = await paas.ssh(`releases ${app}`);
  assert.match(text.stdout, /v5\s+live\s+.*Rollback to v3/);
});

test('rolling back to a release whose image was pruned fails with a clear line and keeps serving', async () => {
  const app = 'rb-pruned';
  const dir = await deploy(app, 'one');
  await commitFiles(dir, { 'www/index.html': 'two\n' });
  assert.equal((await push(paas, dir, app)).exitCode, 0);
  await dockerClient().getImage(`paas/${app}:v1`).remove({ force: true });
  const r = await paas.ssh(`releases:rollback ${app} v1`);
  assert.equal(r.exitCode, 1);
  assert.match(r.stderr, /v1 of 'rb-pruned' cannot be restored: its image paas\/rb-pruned:v1 was pruned/);
  assert.equal((await viaProxy(paas, hostOf(app))).body, 'two\n');
  assert.deepEqual(
    (await releases(app)).map((x) => [x.version, x.status]),
    [
      [2, 'live'],
      [1, 'superseded'],
    ],
  );
});

/** The distinct container hostnames that answer `n` requests. */
const hostnames = async (app: string, n: number) => {
  const seen = new Set<string>();
  for (let i = 0; i < n; i++) seen.add((await env(app)).HOSTNAME);
  return seen;
};

/** The running web containers of `app` made by this server. */
const webContainers = async (app: string) =>
  (await dockerClient().listContainers({ filters: { label: [`paas.app=${app}`, 'paas.process=web', runFilter(paas.labels)] } })).map((c) =>
    c.Id.slice(0, 12),
  );

test('apps:scale web=3 then web=1, health-gated; bad input is refused', async () => {
  const app = 'scaled';
  await deploy(app, 'one');
  let r = await paas.ssh(`apps:scale ${app} web=3`);
  assert.equal(r.exitCode, 0, r.stderr);
  assert.match(r.stdout, /scaled to web=3/);
  const three = await webContainers(app);
  assert.equal(three.length, 3);
  // the proxy balances over all three: every replica answers within a few rounds
  const seen = await waitFor('all 3 replicas to answer', async () => {
    const s = await hostnames(app, 9);
    return s.size === 3 && s;
  });
  assert.deepEqual([...seen].sort(), [...three].sort());
  const load = await keepRequesting(app);
  r = await paas.ssh(`ps:scale ${app} web=1`);
  const { failures } = await load.stop();
  assert.equal(r.exitCode, 0, r.stderr);
  assert.deepEqual(failures, []);
  const one = await webContainers(app);
  assert.equal(one.length, 1);
  assert.deepEqual([...(await hostnames(app, 6))], one);
  for (const bad of ['web=abc', 'web=-1', 'nope=1', 'web=999', 'web=21', 'web', '=3']) {
    const x = await paas.ssh(`apps:scale ${app} ${bad}`);
    assert.equal(x.exitCode, 2, `${bad}: ${x.stderr}`);
  }
  const report = JSON.parse((await paas.ssh(`ps:report ${app} --json`)).stdout);
  assert.deepEqual(report.formation, { web: 1 });
  assert.equal(report.containers.length, 1);
  const [c] = report.containers;
  assert.equal(c.process, 'web');
  assert.equal(c.state, 'running');
  assert.equal(typeof c.memoryBytes, 'number');
  assert.equal(typeof c.cpuPercent, 'number');
  assert.equal(typeof c.uptimeSeconds, 'number');
});

test('ps:set max-replicas caps apps:scale; bad values and unknown settings are refused', async () => {
  const app = 'capped';
  await deploy(app, 'one');
  let r = await paas.ssh(`ps:set ${app} max-replicas 2`);
  assert.equal(r.exitCode, 0, r.stderr);
  assert.equal(r.stdout, 'Set max-replicas=2 on capped\n');
  r = await paas.ssh(`apps:scale ${app} web=3`);
  assert.equal(r.exitCode, 2);
  assert.equal(r.stderr, "error: 'web=3': at most 2 replicas per process type for this app (ps:set max-replicas); nothing was changed\n");
  assert.equal((await webContainers(app)).length, 1, 'the refused scale changed nothing');
  r = await paas.ssh(`apps:scale ${app} web=2`);
  assert.equal(r.exitCode, 0, r.stderr);
  assert.equal((await webContainers(app)).length, 2);
  // raising the cap lets the same scale through
  assert.equal((await paas.ssh(`ps:set ${app} max-replicas 3`)).exitCode, 0);
  r = await paas.ssh(`apps:scale ${app} web=3`);
  assert.equal(r.exitCode, 0, r.stderr);
  assert.equal((await webContainers(app)).length, 3);
  for (const [args, re] of [
    ['max-replicas 0', /max-replicas must be a whole number from 1 to 1000, got '0'/],
    ['max-replicas 1001', /max-replicas must be a whole number from 1 to 1000, got '1001'/],
    ['max-replicas lots', /max-replicas must be a whole number from 1 to 1000, got 'lots'/],
    ['colour blue', /unknown setting 'colour'/],
  ] as const) {
    const x = await paas.ssh(`ps:set ${app} ${args}`);
    assert.equal(x.exitCode, 2, `${args}: ${x.stderr}`);
    assert.match(x.stderr, re);
  }
});

test('ps:stop takes the app down and ps:start brings it back', async () => {
  const app = 'stopper';
  await deploy(app, 'one');
  let r = await paas.ssh(`ps:stop ${app}`);
  assert.equal(r.exitCode, 0, r.stderr);
  assert.equal(r.stdout.split('\n').at(-2), '-----> Stopped stopper (1 container(s))');
  const down = await viaProxy(paas, hostOf(app));
  assert.equal(down.status, 503, down.body);
  assert.match(down.body, /503 Service Unavailable/);
  assert.deepEqual(await webContainers(app), []);
  const rep = JSON.parse((await paas.ssh(`ps:report ${app} --json`)).stdout);
  assert.equal(rep.stopped, true);
  assert.equal(rep.containers.length, 0);
  assert.equal((await paas.ssh(`ps:stop ${app}`)).stdout, 'stopper is already stopped\n');
  r = await paas.ssh(`ps:start ${app}`);
  assert.equal(r.exitCode, 0, r.stderr);
  assert.equal(r.stdout.split('\n').at(-2), '-----> Started stopper: web=1');
  const up = await viaProxy(paas, hostOf(app));
  assert.equal(up.status, 200);
  assert.equal(up.body, 'one\n');
});

test('logs -n shows prefixed lines; run gives output and exit code', async () => {
  const app = 'logrun';
  await deploy(app, 'one');
  assert.equal((await paas.ssh(`config:set ${app} APP_MARK=m1 GREETING='hello wörld'`)).exitCode, 0);
  const l = await paas.ssh(`logs ${app} -n 5`);
  assert.equal(l.exitCode, 0, l.stderr);
  assert.match(l.stdout, /web\.1: booting m1/);
  assert.equal((await paas.ssh(`logs ${app} -n x`)).exitCode, 2);
  let r = await paas.ssh(`run ${app} echo hi '$GREETING'`);
  assert.equal(r.exitCode, 0, r.stderr);
  assert.equal(r.stdout.replace(/\r/g, ''), 'hi hello wörld\n');
  r = await paas.ssh(`run ${app} sh -c 'echo out; exit 3'`);
  assert.equal(r.exitCode, 3);
  assert.equal(r.stdout.replace(/\r/g, ''), 'out\n');
  const rep = JSON.parse((await paas.ssh(`ps:report ${app} --json`)).stdout);
  assert.equal(rep.containers.filter((c: { oneOff: boolean }) => c.oneOff).length, 0, 'one-off containers removed');
});

test('logs -t follows across a restart and ends when the client disconnects', async () => {
  const app = 'follow';
  await deploy(app, 'one');
  const child = execa('ssh', [...sshOptions(paas.key.priv, paas.ports.ssh), 'paas@127.0.0.1', `logs ${app} -t -n 1`], {
    reject: false,
    all: true,
  });
  let out = '';
  child.all?.on('data', (d: Buffer) => (out += d.toString()));
  await waitFor(`the boot line in: ${out}`, async () => /web\.1: booting/.test(out));
  const first = out.match(/booting/g)?.length ?? 0;
  assert.equal((await paas.ssh(`ps:restart ${app}`)).exitCode, 0);
  await waitFor("the new container's boot line", async () => (out.match(/booting/g)?.length ?? 0) > first);
  assert.equal(child.exitCode, null, 'still following');
  child.kill('SIGTERM');
  await child;
});

test('domains:add routes a new Host; conflicts and bad names are refused; domains:remove unroutes it', async () => {
  const app = 'dom';
  await deploy(app, 'dom-serves');
  let r = await paas.ssh(`domains:add ${app} www.example.test`);
  assert.equal(r.exitCode, 0, r.stderr);
  assert.equal(r.stdout, 'Added www.example.test to dom\n');
  const res = await viaProxy(paas, 'www.example.test');
  assert.equal(res.status, 200);
  assert.equal(res.body, 'dom-serves\n');
  assert.deepEqual(JSON.parse((await paas.ssh(`domains:list ${app} --json`)).stdout), [
    { domain: 'dom.paas.test', kind: 'global' },
    { domain: 'www.example.test', kind: 'custom' },
  ]);
  assert.equal((await paas.ssh('apps:create dom-other')).exitCode, 0);
  r = await paas.ssh('domains:add dom-other www.example.test');
  assert.equal(r.exitCode, 1);
  assert.match(r.stderr, /already routes to app 'dom'/);
  assert.equal((await paas.ssh(`domains:add ${app} 'bad_name!'`)).exitCode, 2);
  r = await paas.ssh(`domains:remove ${app} www.example.test`);
  assert.equal(r.exitCode, 0, r.stderr);
  assert.equal(r.stdout, 'Removed www.example.test from dom\n');
  const gone = await viaProxy(paas, 'www.example.test');
  assert.equal(gone.status, 503, gone.body);
  assert.match(gone.body, /503 Service Unavailable/);
  assert.equal((await viaProxy(paas, hostOf(app))).body, 'dom-serves\n', 'the app keeps its own host');
});

test('checks:set and builder:set store settings; config before the first deploy just stores', async () => {
  const app = 'chk';
  await deploy(app, 'one');
  let r = await paas.ssh(`checks:set ${app} path=/ timeout=3 attempts=5 wait=1 --json`);
  assert.equal(r.exitCode, 0, r.stderr);
  assert.deepEqual(JSON.parse(r.stdout), { path: '/', timeout: 3, attempts: 5, wait: 1 });
  assert.equal((await paas.ssh(`checks:set ${app} path=nope`)).exitCode, 2);
  assert.equal((await paas.ssh(`checks:set ${app} colour=blue`)).exitCode, 2);
  r = await paas.ssh(`ps:restart ${app}`);
  assert.equal(r.exitCode, 0, r.stderr);
  assert.match(r.stdout, /GET \//);
  assert.equal((await paas.ssh(`builder:set ${app} pack`)).exitCode, 0);
  assert.equal((await paas.ssh(`builder:set ${app} auto`)).exitCode, 0);
  assert.equal((await paas.ssh(`builder:set ${app} gradle`)).exitCode, 2);
  assert.equal((await paas.ssh('apps:create chk-fresh')).exitCode, 0);
  r = await paas.ssh('config:set chk-fresh FOO=bar');
  assert.equal(r.exitCode, 0, r.stderr);
  assert.equal(r.stdout, 'Set FOO on chk-fresh (applies at the first deploy)\n');
  assert.equal((await paas.ssh('config:get chk-fresh FOO')).stdout, 'bar\n');
  assert.deepEqual(JSON.parse((await paas.ssh('releases chk-fresh --json')).stdout), []);
});
