// The dashboard's HTTP app with its access service over a real SQLite file and a fake command
// host: login, cookies, headers, CSRF, the allowlist, app refusals, the deploy stream.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { FastifyInstance } from 'fastify';
import type { CommandIo, Identity } from '../../../src/contracts/command-io.js';
import { buildDashboardApp } from '../../../src/dashboard/dashboard-app.js';
import { prepareAssets } from '../../../src/dashboard/dashboard-assets.js';
import { DashboardService } from '../../../src/dashboard/dashboard-service.js';
import { CommandRunner } from '../../../src/dashboard/command-runner.js';
import { DeployHub } from '../../../src/dashboard/deploy-hub.js';
import { MetricsHistory } from '../../../src/dashboard/metrics-history.js';
import { SessionStreams } from '../../../src/dashboard/session-streams.js';
import { CONTENT_SECURITY_POLICY } from '../../../src/dashboard/security-headers.js';
import { DASHBOARD_COMMANDS } from '../../../src/dashboard/run-allowlist.js';
import { allowlistRefusal } from '../../../src/plugin-host/command-allowlist.js';
import { silentLogger } from '../../../src/log/logger.js';
import { State } from '../../../src/state/state.js';
import { DashboardLoginsRepository } from '../../../src/state/dashboard-logins-repository.js';
import { DashboardSessionsRepository } from '../../../src/state/dashboard-sessions-repository.js';
import { KeyService } from '../../../src/services/key-service.js';

const HOST = 'paas.example.test';
const ORIGIN = `https://${HOST}`;

describe('dashboard app', () => {
  let dir: string;
  let state: State;
  let service: DashboardService;
  let app: FastifyInstance;
  let hub: DeployHub;
  const ran: { words: string[]; key: string }[] = [];
  const aborted: string[] = [];
  const admin = () => keys.identify(state.keys.byName('alice')!.fingerprint)!;
  const dev = () => keys.identify(state.keys.byName('dev')!.fingerprint)!;
  let keys: KeyService;

  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dash-app-'));
    state = State.open(path.join(dir, 'paas.db'));
    state.apps.create('mine');
    state.apps.create('other');
    keys = new KeyService({ keys: state.keys, onRemoved: () => {} } as unknown as ConstructorParameters<typeof KeyService>[0]);
    state.keys.add('alice', 'SHA256:alice', 'ssh-ed25519 AAAA alice', 'admin');
    const d = state.keys.add('dev', 'SHA256:dev', 'ssh-ed25519 AAAA dev', 'developer');
    state.keys.grant(d.id, ['mine']);
    service = new DashboardService({
      logins: new DashboardLoginsRepository(state.db),
      sessions: new DashboardSessionsRepository(state.db),
      keys: state.keys,
      identify: (fp) => keys.identify(fp),
      settings: state.settings,
      globalDomain: () => 'example.test',
      hostOwner: () => null,
      httpsPort: () => 443,
      applyRoute: async () => {},
      onEnded: () => {},
    });
    hub = new DeployHub();
    const host = {
      async run(words: string[], identity: Identity, io: CommandIo) {
        ran.push({ words, key: identity.keyName });
        if (words.includes('-t')) {
          // a following command: a line now, then until its signal aborts
          io.stdout.write(`line of ${words[1]} <img onerror=x>\nsecond`);
          await new Promise<void>((r) => io.signal.addEventListener('abort', () => r(), { once: true }));
          aborted.push(words.join(' '));
          return 130;
        }
        if (identity.role !== 'admin' && words[1] === 'other') {
          io.stderr.write(`error: key '${identity.keyName}' has no access to app 'other'\n`);
          return 1;
        }
        io.stdout.write(`ran ${words.join(' ')}\n`);
        return 0;
      },
    };
    const assetsDir = path.join(dir, 'assets');
    const web = path.join(dir, 'web');
    fs.mkdirSync(web);
    fs.writeFileSync(path.join(web, 'app.js'), `export const x = ${JSON.stringify('a'.repeat(2000))};\n`);
    const { pages } = prepareAssets(web, path.resolve('node_modules/uplot/dist'), assetsDir);
    app = await buildDashboardApp({
      access: service,
      runner: new CommandRunner(host),
      gate: (argv) =>
        allowlistRefusal(
          argv,
          {
            find: (n: string) => {
              const name = n === 'ps:scale' ? 'apps:scale' : n;
              if (!['apps:scale', 'apps:list', 'ps:stop', 'logs', 'ssh-keys:add'].includes(name)) return undefined;
              const flags = { tail: { type: 'boolean' as const, short: 't', description: '' } };
              return { name, plugin: 'x', spec: { summary: '', usage: '', flags, run: () => 0 } };
            },
          },
          DASHBOARD_COMMANDS,
        ),
      appNames: () => state.apps.list().map((a) => a.name),
      hub,
      history: new MetricsHistory(),
      hostReport: async () => ({ cpu: { cores: 1, load1: 0 } }),
      streams: new SessionStreams(),
      assetsDir,
      pages,
      httpsPort: 443,
      log: silentLogger(),
    });
  });
  after(async () => {
    await app.close();
    state.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  async function login(identity: Identity, next = '/'): Promise<{ cookie: string; csrf: string }> {
    const link = new URL(service.loginLink(identity, next));
    const res = await app.inject({ method: 'GET', url: link.pathname + link.search, headers: { 'x-real-ip': '192.0.2.1' } });
    assert.equal(res.statusCode, 303);
    const cookie = String(res.headers['set-cookie']).split(';')[0]!;
    const s = await app.inject({ method: 'GET', url: '/api/session', headers: { cookie } });
    return { cookie, csrf: s.json().csrf };
  }

  test('a login link opens a session once, with a strict cookie, and lands on next', async () => {
    const link = new URL(service.loginLink(admin(), '/apps/mine'));
    assert.equal(link.origin, ORIGIN);
    const head = await app.inject({ method: 'HEAD', url: link.pathname + link.search });
    assert.equal(head.statusCode, 200, 'a HEAD does not use the link up');
    const res = await app.inject({ method: 'GET', url: link.pathname + link.search });
    assert.equal(res.statusCode, 303);
    assert.equal(res.headers.location, '/apps/mine');
    const c = String(res.headers['set-cookie']);
    assert.match(c, /^paas_session=[A-Za-z0-9_-]{40,}; Max-Age=\d+; Path=\/; HttpOnly; Secure; SameSite=Strict$/);
    const again = await app.inject({ method: 'GET', url: link.pathname + link.search });
    assert.equal(again.statusCode, 410);
    assert.match(again.body, /used or has expired/);
    assert.equal(again.headers['set-cookie'], undefined);
  });

  test('security headers on pages, API and assets; assets compressed', async () => {
    for (const url of ['/', '/login-needed', '/api/session', '/assets/app.js']) {
      const res = await app.inject({ method: 'GET', url, headers: { 'accept-encoding': 'br, gzip' } });
      assert.equal(res.headers['content-security-policy'], CONTENT_SECURITY_POLICY, url);
      assert.equal(res.headers['x-frame-options'], 'DENY');
      assert.equal(res.headers['x-content-type-options'], 'nosniff');
      assert.equal(res.headers['referrer-policy'], 'no-referrer');
      if (url.startsWith('/assets')) {
        assert.equal(res.headers['content-encoding'], 'br');
        assert.equal(res.headers['cache-control'], 'no-cache');
        assert.ok(res.headers.etag);
      } else assert.equal(res.headers['cache-control'], 'no-store', url);
    }
    const vendor = await app.inject({ method: 'GET', url: '/assets/vendor/uPlot.esm.js', headers: { 'accept-encoding': 'gzip' } });
    assert.equal(vendor.statusCode, 200);
    assert.equal(vendor.headers['content-encoding'], 'gzip');
    assert.match(String(vendor.headers['cache-control']), /max-age=31536000/);
  });

  test('no session: pages go to /login-needed, the API says not logged in', async () => {
    const page = await app.inject({ method: 'GET', url: '/apps/mine' });
    assert.equal(page.statusCode, 303);
    assert.equal(page.headers.location, '/login-needed');
    const api = await app.inject({ method: 'GET', url: '/api/metrics', headers: { cookie: 'paas_session=bogusbogusbogusbogusbogus' } });
    assert.equal(api.statusCode, 401);
    assert.deepEqual(api.json(), { error: 'not logged in' });
  });

  test('/api/run runs allowlisted commands as the session key, with CSRF and same-origin checks', async () => {
    const { cookie, csrf } = await login(dev());
    const post = (headers: Record<string, string>, argv: unknown = ['ps:scale', 'mine', 'web=2']) =>
      app.inject({
        method: 'POST',
        url: '/api/run',
        headers: { cookie, 'content-type': 'application/json', ...headers },
        payload: JSON.stringify({ argv }),
      });
    const before = ran.length;
    for (const h of [
      {},
      { 'x-csrf-token': 'wrong' },
      { 'x-csrf-token': csrf, origin: 'https://evil.example' },
      { 'x-csrf-token': csrf, 'sec-fetch-site': 'cross-site' },
    ]) {
      const r = await post(h as Record<string, string>);
      assert.equal(r.statusCode, 403, JSON.stringify(h));
      assert.ok(r.json().error);
    }
    assert.equal(ran.length, before, 'nothing ran');
    const ok = await post({ 'x-csrf-token': csrf, origin: ORIGIN, host: HOST, 'sec-fetch-site': 'same-origin' });
    assert.equal(ok.statusCode, 200);
    assert.deepEqual(ok.json(), { exitCode: 0, stdout: 'ran ps:scale mine web=2\n', stderr: '' });
    assert.deepEqual(ran.at(-1), { words: ['ps:scale', 'mine', 'web=2'], key: 'dev' });
    const refused = await post({ 'x-csrf-token': csrf }, ['ssh-keys:add', 'x']);
    assert.equal(refused.statusCode, 403);
    assert.equal(refused.json().error, "'ssh-keys:add' is not available in the dashboard; use the CLI");
    const tail = await post({ 'x-csrf-token': csrf }, ['logs', 'mine', '-t']);
    assert.equal(tail.statusCode, 403);
    const other = await post({ 'x-csrf-token': csrf }, ['ps:stop', 'other']);
    assert.equal(other.json().exitCode, 1);
    assert.match(other.json().stderr, /no access to app 'other'/);
  });

  test('a developer session is refused other apps and the host', async () => {
    const { cookie } = await login(dev());
    for (const url of ['/api/apps/other/metrics', '/api/apps/other/logs', '/api/apps/other/deploy', '/api/apps/nosuch/metrics']) {
      const r = await app.inject({ method: 'GET', url, headers: { cookie } });
      assert.equal(r.statusCode, 403, url);
      assert.match(r.json().error, /^key 'dev' has no access to app/);
    }
    assert.equal((await app.inject({ method: 'GET', url: '/api/host', headers: { cookie } })).statusCode, 403);
    assert.equal((await app.inject({ method: 'GET', url: '/host', headers: { cookie } })).statusCode, 403);
    const s = await app.inject({ method: 'GET', url: '/api/session', headers: { cookie } });
    assert.deepEqual(s.json().apps, ['mine']);
    const m = await app.inject({ method: 'GET', url: '/api/metrics', headers: { cookie } });
    assert.deepEqual(Object.keys(m.json().apps), ['mine']);
  });

  test('revoking a session ends it at the next request', async () => {
    const { cookie } = await login(dev());
    const [s] = service.sessions(dev());
    service.revoke(dev(), { all: true });
    assert.ok(s);
    assert.equal((await app.inject({ method: 'GET', url: '/api/session', headers: { cookie } })).statusCode, 401);
  });

  test('plain HTTP through the proxy is sent to HTTPS', async () => {
    const r = await app.inject({ method: 'GET', url: '/apps/mine?x=1', headers: { 'x-forwarded-proto': 'http' } });
    assert.equal(r.statusCode, 308);
    assert.equal(r.headers.location, `${ORIGIN}/apps/mine?x=1`);
  });

  test('the deploy stream replays the running push then goes live', async () => {
    const { cookie } = await login(admin());
    hub.begin('mine');
    hub.line('mine', '-----> Building <script>');
    const address = await app.listen({ host: '127.0.0.1', port: 0 });
    const ac = new AbortController();
    const res = await fetch(`${address}/api/apps/mine/deploy`, { headers: { cookie }, signal: ac.signal });
    assert.equal(res.headers.get('content-type'), 'text/event-stream; charset=utf-8');
    const reader = res.body!.getReader();
    let text = '';
    const until = async (re: RegExp) => {
      while (!re.test(text)) {
        const { value, done } = await reader.read();
        if (done) break;
        text += Buffer.from(value).toString();
      }
    };
    await until(/Building/);
    hub.end('mine', { type: 'done', ok: true, release: 'v2' });
    await until(/event: done/);
    assert.match(text, /event: line\ndata: -----> Building <script>\n\n/);
    assert.match(text, /event: done\ndata: \{"ok":true,"release":"v2"\}\n\n/);
    ac.abort();
  });

  test('the log tail runs logs -t for the session key and stops when the client goes away', async () => {
    const { cookie } = await login(dev());
    const address = app.server.listening
      ? `http://127.0.0.1:${(app.server.address() as { port: number }).port}`
      : await app.listen({ host: '127.0.0.1', port: 0 });
    const bad = await fetch(`${address}/api/apps/mine/logs?process=../x`, { headers: { cookie } });
    assert.equal(bad.status, 400);
    const ac = new AbortController();
    const res = await fetch(`${address}/api/apps/mine/logs?process=web`, { headers: { cookie }, signal: ac.signal });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('x-frame-options'), 'DENY');
    const reader = res.body!.getReader();
    let text = '';
    while (!text.includes('data: line of mine')) text += Buffer.from((await reader.read()).value!).toString();
    assert.match(text, /^event: line\ndata: line of mine <img onerror=x>\n\n/);
    assert.deepEqual(ran.at(-1), { words: ['logs', 'mine', '-t', '-p', 'web'], key: 'dev' });
    ac.abort();
    const deadline = Date.now() + 5000;
    while (!aborted.includes('logs mine -t -p web') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    assert.ok(aborted.includes('logs mine -t -p web'), 'the command was interrupted');
  });
});
