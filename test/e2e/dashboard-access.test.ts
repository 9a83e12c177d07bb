// Issue 25, the dashboard's access as an attacker and a user would drive it over HTTP (no browser:
// the pages are tested by dash-web's Chromium test): login links printed by `dashboard:login` over
// real SSH, opened through paas's own proxy over HTTPS; sessions in SQLite that survive a restart;
// a developer session walking every route the dashboard app registers; forged cross-site POSTs;
// revocation, key removal and `enabled off` ending access at once; bad input for every command.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import https from 'node:https';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { buildDashboardApp } from '../../src/dashboard/dashboard-app.js';
import { DASHBOARD_COMMANDS } from '../../src/dashboard/run-allowlist.js';
import { CONTENT_SECURITY_POLICY } from '../../src/dashboard/security-headers.js';
import { silentLogger } from '../../src/log/logger.js';
import { commitFiles, push } from '../helpers/app-repo.js';
import { PaasServer } from '../helpers/paas-server.js';
import { makeCa, makeCert } from '../helpers/test-certs.js';
import { waitFor } from '../helpers/wait.js';

const HOST = 'paas.paas.test';
const OTHER = 'secret-app';
let paas: PaasServer;
let dev: { priv: string; pub: string };
let dev2: { priv: string; pub: string };

interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** One request to the dashboard host through the proxy's HTTPS port (SNI and Host set). */
function dash(
  method: string,
  urlPath: string,
  opts: { cookie?: string; headers?: Record<string, string>; body?: string; ca?: string; host?: string } = {},
): Promise<Reply> {
  const host = opts.host ?? HOST;
  return new Promise((resolve, reject) => {
    const req = https.request(
      {
        host: '127.0.0.1',
        port: paas.ports.https,
        method,
        path: urlPath,
        servername: host,
        agent: false,
        ...(opts.ca ? { ca: opts.ca } : { rejectUnauthorized: false }),
        headers: {
          host: `${host}:${paas.ports.https}`,
          ...(opts.cookie ? { cookie: opts.cookie } : {}),
          ...(opts.body !== undefined ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(opts.body) } : {}),
          ...opts.headers,
        },
        timeout: 10_000,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.once('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString() }));
      },
    );
    req.once('timeout', () => req.destroy(new Error(`timeout: ${method} ${urlPath}`)));
    req.once('error', reject);
    req.end(opts.body);
  });
}

/** An SSE stream: collects its text; `until(re)` waits for it; `close()` ends it. */
function stream(urlPath: string, cookie: string) {
  let text = '';
  let ended = false;
  let status = 0;
  const req = https.request({
    host: '127.0.0.1',
    port: paas.ports.https,
    path: urlPath,
    servername: HOST,
    rejectUnauthorized: false,
    agent: false,
    headers: { host: `${HOST}:${paas.ports.https}`, cookie },
  });
  const opened = new Promise<void>((resolve, reject) => {
    req.once('response', (res) => {
      status = res.statusCode ?? 0;
      res.on('data', (c: Buffer) => {
        text += c.toString();
      });
      res.once('end', () => {
        ended = true;
      });
      res.once('error', () => {
        ended = true;
      });
      resolve();
    });
    req.once('error', reject);
  });
  req.end();
  return {
    opened,
    get status() {
      return status;
    },
    get text() {
      return text;
    },
    get ended() {
      return ended;
    },
    until: (re: RegExp, ms = 30_000) => waitFor(`${re} in ${urlPath}`, async () => re.test(text), ms),
    close: () => req.destroy(),
  };
}

const ssh = (cmd: string, key?: string) => paas.ssh(cmd, key ? { key } : {});

/** Runs dashboard:login over SSH and opens the link: the session cookie and CSRF token. */
async function login(key?: string, next = '/'): Promise<{ cookie: string; csrf: string; link: string; reply: Reply }> {
  const r = await ssh(`dashboard:login ${next}`, key);
  assert.equal(r.exitCode, 0, r.stderr);
  const link = r.stdout.trim();
  assert.match(link, new RegExp(`^https://${HOST.replace(/\./g, '\\.')}:${paas.ports.https}/login/[A-Za-z0-9_-]{43}\\?next=`));
  const u = new URL(link);
  const reply = await dash('GET', u.pathname + u.search);
  assert.equal(reply.status, 303, reply.body);
  const cookie = String(reply.headers['set-cookie']).split(';')[0]!;
  const s = await dash('GET', '/api/session', { cookie });
  assert.equal(s.status, 200, s.body);
  return { cookie, csrf: JSON.parse(s.body).csrf, link, reply };
}

const run = (cookie: string, csrf: string, argv: string[], headers: Record<string, string> = {}) =>
  dash('POST', '/api/run', { cookie, body: JSON.stringify({ argv }), headers: { 'x-csrf-token': csrf, ...headers } });

/** Every route the dashboard app registers, read from the app itself (a new route is walked automatically). */
async function registeredRoutes(): Promise<{ method: string; url: string }[]> {
  const routes: { method: string; url: string }[] = [];
  const dir = fs.mkdtempSync(path.join(paas.dataDir, 'routes-'));
  const none = () => {
    throw new Error('not called');
  };
  const app = await buildDashboardApp({
    access: { authenticate: () => null, login: none, settings: none },
    runner: { capture: none, follow: none },
    gate: none,
    appNames: () => [],
    hub: { subscribe: none },
    history: { overview: none, app: none },
    hostReport: none,
    streams: { add: none },
    assetsDir: dir,
    pages: { shell: '', loginNeeded: '', linkExpired: '' },
    httpsPort: 443,
    log: silentLogger(),
    onRoute: (method, url) => routes.push({ method, url }),
  });
  await app.ready();
  await app.close();
  return routes;
}

before(async () => {
  // links expire after 4 s here so the expiry is tested without waiting 5 minutes
  paas = await new PaasServer({ PAAS_DASHBOARD_LOGIN_TTL_MS: '4000' }).start();
  for (const app of ['mine', OTHER]) assert.equal((await ssh(`apps:create ${app}`)).exitCode, 0);
  dev = await paas.addDeveloper('dev', ['mine']);
  dev2 = await paas.addDeveloper('dev2', ['mine']);
  // the dashboard route is deployed to the proxy once its listener is up
  await waitFor('the dashboard host routed', async () => (await dash('GET', '/login-needed')).status === 200, 30_000, 100);
});

after(async () => {
  await paas?.destroy();
});

describe('dashboard access', () => {
  test('a link from dashboard:login opens a session once; the cookie is HttpOnly, Secure, SameSite=Strict', async () => {
    const { reply, link, cookie } = await login(undefined, '/apps/mine');
    assert.equal(reply.headers.location, '/apps/mine');
    const setCookie = String(reply.headers['set-cookie']);
    assert.match(setCookie, /^paas_session=[A-Za-z0-9_-]{43};/);
    for (const attr of ['HttpOnly', 'Secure', 'SameSite=Strict', 'Path=/'])
      assert.ok(setCookie.split('; ').includes(attr), `${attr} in ${setCookie}`);
    const u = new URL(link);
    const reused = await dash('GET', u.pathname + u.search);
    assert.equal(reused.status, 410);
    assert.match(reused.body, /This login link was used or has expired/);
    assert.equal(reused.headers['set-cookie'], undefined);
    const page = await dash('GET', '/', { cookie });
    assert.equal(page.status, 200);
    assert.match(String(page.headers['content-type']), /^text\/html/);
    // no session: pages send to /login-needed, the API says not logged in
    assert.equal((await dash('GET', '/')).headers.location, '/login-needed');
    const api = await dash('GET', '/api/session');
    assert.equal(api.status, 401);
    assert.deepEqual(JSON.parse(api.body), { error: 'not logged in' });
  });

  test('an expired link is refused', async () => {
    const r = await ssh('dashboard:login');
    const u = new URL(r.stdout.trim());
    await new Promise((res) => setTimeout(res, 4200));
    const late = await dash('GET', u.pathname + u.search);
    assert.equal(late.status, 410);
    assert.equal(late.headers['set-cookie'], undefined);
  });

  test('pages cannot be framed and carry the strict CSP; API answers are never cached', async () => {
    const { cookie } = await login();
    for (const p of ['/', '/apps/mine', '/login-needed', '/api/session']) {
      const r = await dash('GET', p, { cookie });
      assert.equal(r.headers['content-security-policy'], CONTENT_SECURITY_POLICY, p);
      assert.match(CONTENT_SECURITY_POLICY, /frame-ancestors 'none'/);
      assert.equal(r.headers['x-frame-options'], 'DENY', p);
      assert.equal(r.headers['x-content-type-options'], 'nosniff', p);
      assert.equal(r.headers['cache-control'], 'no-store', p);
    }
  });

  test('a developer session walks every route with another app and is refused', async () => {
    const { cookie, csrf } = await login(dev.priv);
    const routes = await registeredRoutes();
    assert.ok(routes.some((r) => r.url === '/api/run') && routes.some((r) => r.url.includes(':app')), JSON.stringify(routes));
    for (const { method, url } of routes) {
      const p = url.replace(':app', OTHER).replace(':token', 'x'.repeat(43)).replace('*', 'app.js');
      const r =
        method === 'POST'
          ? await run(cookie, csrf, ['apps:info', OTHER])
          : await dash(method, `${p}${p.includes('/metrics') ? '?range=1h' : ''}`, { cookie });
      const where = `${method} ${url} -> ${r.status} ${r.body.slice(0, 200)}`;
      if (url.includes(':app') || url === '/api/host' || url === '/host') assert.equal(r.status, 403, where);
      if (method === 'GET' && url.includes(':app') && url.startsWith('/api/'))
        assert.match(JSON.parse(r.body).error, new RegExp(`^key 'dev' has no access to app '${OTHER}'`), where);
      if (method === 'POST') {
        const out = JSON.parse(r.body);
        assert.notEqual(out.exitCode, 0, where);
        assert.match(out.stderr, new RegExp(`^error: key 'dev' has no access to app '${OTHER}'`), where);
      }
      // nothing of the other app, whatever the route
      if (!(url.includes(':app') || method === 'POST')) assert.ok(!r.body.includes(OTHER), where);
    }
    const session = JSON.parse((await dash('GET', '/api/session', { cookie })).body);
    assert.deepEqual([session.key, session.role, session.apps], ['dev', 'developer', ['mine']]);
  });

  test('every allowlisted command on another app is refused through /api/run, and lands in the audit log', async () => {
    const { cookie, csrf } = await login(dev.priv);
    for (const name of DASHBOARD_COMMANDS) {
      const r = await run(cookie, csrf, [name, OTHER]);
      assert.equal(r.status, 200, `${name}: ${r.body}`);
      const out = JSON.parse(r.body);
      assert.notEqual(out.exitCode, 0, `${name} ran: ${r.body}`);
      assert.equal(out.stdout, '', name);
      assert.equal(out.stderr.trim().split('\n').length, 1, `${name}: ${out.stderr}`);
    }
    const notAllowed = await run(cookie, csrf, ['ssh-keys:remove', 'tester']);
    assert.equal(notAllowed.status, 403);
    assert.deepEqual(JSON.parse(notAllowed.body), { error: "'ssh-keys:remove' is not available in the dashboard; use the CLI" });
    // the developer's own app works, as the same command over SSH
    const mine = await run(cookie, csrf, ['config:set', 'mine', 'FROM_DASH=1']);
    assert.equal(JSON.parse(mine.body).exitCode, 0, mine.body);
    assert.match((await ssh('config:show mine')).stdout, /FROM_DASH/);
  });

  test('forged cross-site POSTs are refused and change nothing', async () => {
    const { cookie, csrf } = await login();
    const origin = `https://${HOST}:${paas.ports.https}`;
    for (const [what, headers] of [
      ['no token', { 'x-csrf-token': '' }],
      ['wrong token', { 'x-csrf-token': 'A'.repeat(43) }],
      ['evil origin', { 'x-csrf-token': csrf, origin: 'https://evil.example' }],
      ['cross-site fetch', { 'x-csrf-token': csrf, 'sec-fetch-site': 'cross-site' }],
    ] as const) {
      const r = await run(cookie, csrf, ['config:set', 'mine', 'FORGED=1'], headers);
      assert.equal(r.status, 403, what);
      assert.ok(JSON.parse(r.body).error, what);
    }
    const form = await dash('POST', '/api/run', {
      cookie,
      headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-csrf-token': csrf },
      body: 'argv=config:set',
    });
    assert.equal(form.status, 403);
    assert.doesNotMatch((await ssh('config:show mine')).stdout, /FORGED/);
    const ok = await run(cookie, csrf, ['apps:list', '--json'], { origin, 'sec-fetch-site': 'same-origin' });
    assert.equal(JSON.parse(ok.body).exitCode, 0, ok.body);
  });

  test('the deploy stream shows a push started from a terminal; the log tail streams', async () => {
    const { cookie } = await login();
    const s = stream('/api/apps/mine/deploy', cookie);
    await s.opened;
    assert.equal(s.status, 200);
    await s.until(/event: idle/);
    const dir = path.join(paas.dataDir, 'repo');
    // no Dockerfile and no known stack: the build fails at once, which is all this stream needs
    await commitFiles(dir, { 'README.txt': 'nothing to build\n' });
    const pushed = await push(paas, dir, 'mine');
    assert.notEqual(pushed.exitCode, 0);
    await s.until(/event: done\ndata: \{"ok":false/);
    assert.match(s.text, /event: line\ndata: -----> Deploying mine/);
    s.close();
    const logs = stream('/api/apps/mine/logs', cookie);
    await logs.opened;
    assert.equal(logs.status, 200);
    logs.close();
    const refused = await dash('GET', `/api/apps/${OTHER}/deploy`, { cookie: (await login(dev.priv)).cookie });
    assert.equal(refused.status, 403);
  });

  test('dashboard:revoke and key removal end access at once, open streams included', async () => {
    const a = await login(dev.priv);
    const listed = JSON.parse((await ssh('dashboard:sessions --json', dev.priv)).stdout) as { id: string; key: string }[];
    assert.ok(listed.length >= 1 && listed.every((s) => s.key === 'dev'));
    const all = JSON.parse((await ssh('dashboard:sessions --json')).stdout) as { key: string }[];
    assert.ok(
      all.some((s) => s.key === 'tester'),
      'an admin sees every session',
    );
    const revoked = await ssh('dashboard:revoke --all', dev.priv);
    assert.equal(revoked.exitCode, 0, revoked.stderr);
    assert.equal((await dash('GET', '/api/session', { cookie: a.cookie })).status, 401);
    const b = await login(dev2.priv);
    const s = stream('/api/apps/mine/deploy', b.cookie);
    await s.opened;
    await s.until(/event: idle/);
    assert.equal((await ssh('ssh-keys:remove dev2')).exitCode, 0);
    assert.equal((await dash('GET', '/api/session', { cookie: b.cookie })).status, 401);
    await waitFor('the stream of a removed key ends', async () => s.ended, 5000);
  });

  test('a session survives a restart of the control plane', async () => {
    const { cookie } = await login();
    await paas.stop('SIGUSR2');
    await paas.spawnServer();
    const r = await waitFor(
      'the dashboard after the restart',
      async () => {
        const x = await dash('GET', '/api/session', { cookie });
        return x.status === 200 ? x : null;
      },
      30_000,
      100,
    );
    assert.equal(JSON.parse(r.body).key, 'tester');
  });

  test('a certificate added with certs:add for the dashboard host serves it over HTTPS', async () => {
    const ca = await makeCa(path.join(paas.dataDir, 'ca'));
    const cert = await makeCert(ca, [HOST]);
    const added = await paas.ssh('certs:add mine', { input: cert.bundle });
    assert.equal(added.exitCode, 0, added.stderr);
    const r = await waitFor(
      'the dashboard served with the certificate',
      () => dash('GET', '/login-needed', { ca: ca.pem }).catch(() => null),
      10_000,
      100,
    );
    assert.equal(r.status, 200);
  });

  test('bad input to every dashboard command: one line, non-zero, nothing changed', async () => {
    const before = JSON.parse((await ssh('dashboard:sessions --json')).stdout).length;
    for (const [cmd, key] of [
      ['dashboard:login //evil.example', undefined],
      ['dashboard:login https://evil.example', undefined],
      ['dashboard:login / extra', undefined],
      ['dashboard:sessions extra', undefined],
      ['dashboard:revoke', undefined],
      ['dashboard:revoke nothex', undefined],
      ['dashboard:revoke 0123456789ab', undefined],
      ['dashboard:revoke 0123456789ab --all', undefined],
      ['dashboard:set host', undefined],
      ['dashboard:set host not_a_host', undefined],
      ['dashboard:set host mine.paas.test', undefined],
      ['dashboard:set enabled maybe', undefined],
      ['dashboard:set session-ttl 13h', undefined],
      ['dashboard:set session-ttl soon', undefined],
      ['dashboard:set colour red', undefined],
      ['dashboard:set enabled off', dev.priv],
      ['dashboard:set session-ttl 1h', dev.priv],
    ] as const) {
      const r = await ssh(cmd, key);
      assert.notEqual(r.exitCode, 0, cmd);
      assert.equal(r.stdout, '', cmd);
      assert.match(r.stderr, /^error: [^\n]+\n$/, `${cmd}: ${r.stderr}`);
    }
    assert.equal(JSON.parse((await ssh('dashboard:sessions --json')).stdout).length, before);
    assert.match((await ssh('dashboard:login')).stdout, new RegExp(`^https://${HOST.replace(/\./g, '\\.')}:`));
    assert.equal((await dash('GET', '/login-needed')).status, 200, 'still on');
  });

  test('enabled off removes the route at once; on brings it back', async () => {
    const { cookie } = await login();
    const off = await ssh('dashboard:set enabled off');
    assert.equal(off.exitCode, 0, off.stderr);
    const r = await dash('GET', '/api/session', { cookie });
    assert.ok(r.status === 404 || r.status === 421, `${r.status} ${r.body.slice(0, 100)}`);
    assert.notEqual((await ssh('dashboard:login')).exitCode, 0);
    assert.equal((await ssh('dashboard:set enabled on')).exitCode, 0);
    assert.equal((await dash('GET', '/api/session', { cookie })).status, 200);
  });

  test('admins see the host; a developer is refused', async () => {
    const admin = await login();
    const host = JSON.parse((await dash('GET', '/api/host', { cookie: admin.cookie })).body);
    assert.ok(host.cpu.cores >= 1 && host.memory.total > 0, JSON.stringify(host));
    const m = JSON.parse((await dash('GET', '/api/apps/mine/metrics?range=1d', { cookie: admin.cookie })).body);
    assert.equal(m.step, 60);
    assert.equal(m.t.length, 1440);
    const d = await login(dev.priv);
    assert.equal((await dash('GET', '/api/host', { cookie: d.cookie })).status, 403);
  });
});
