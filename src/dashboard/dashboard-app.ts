import fastifyCookie from '@fastify/cookie';
import fastifyStatic from '@fastify/static';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { canReach, refusal } from '../contracts/access.js';
import type { Identity } from '../contracts/command-io.js';
import { isAppName } from '../contracts/names.js';
import type { Logger } from '../log/logger.js';
import type { CommandRunner } from './command-runner.js';
import type { DashboardPages } from './dashboard-assets.js';
import type { AuthenticatedSession, DashboardService } from './dashboard-service.js';
import { csrfRefusal } from './csrf-check.js';
import type { DeployHub } from './deploy-hub.js';
import type { MetricsHistory } from './metrics-history.js';
import { SECURITY_HEADERS, SESSION_COOKIE, sessionCookieOptions } from './security-headers.js';
import type { SessionStreams } from './session-streams.js';
import { SseStream } from './sse-stream.js';

export interface DashboardAppDeps {
  access: Pick<DashboardService, 'authenticate' | 'login' | 'settings'>;
  runner: Pick<CommandRunner, 'capture' | 'follow'>;
  /** null when `argv` may run from the dashboard (the allowlist), else the refusal */
  gate(argv: unknown): string | null;
  appNames(): string[];
  hub: Pick<DeployHub, 'subscribe'>;
  history: Pick<MetricsHistory, 'overview' | 'app'>;
  hostReport(): Promise<unknown>;
  streams: Pick<SessionStreams, 'add'>;
  /** the cache dir of prepared assets (prepareAssets) */
  assetsDir: string;
  pages: DashboardPages;
  httpsPort: number;
  log: Logger;
  /** told every route registered (method, URL pattern): the e2e tests walk them all */
  onRoute?: (method: string, url: string) => void;
}

const RANGES: Record<string, number> = { '1h': 3600, '1d': 86_400, '1w': 7 * 86_400 };
const PROCESS_TYPE = /^[a-z][a-z0-9-]{0,29}$/;

declare module 'fastify' {
  interface FastifyRequest {
    session: AuthenticatedSession | null;
  }
}

/**
 * The dashboard's HTTP app: the pages (one static shell), one-time login, the API that runs the
 * same commands as SSH through the CommandHost for the session's key, the live streams and the
 * chart data. It holds no access rule of its own: app access is the shared rule (contracts/access)
 * and every command is checked by the CommandHost.
 */
export async function buildDashboardApp(deps: DashboardAppDeps): Promise<FastifyInstance> {
  const app = Fastify({ logger: false, bodyLimit: 64 * 1024, trustProxy: false, return503OnClosing: false });
  app.decorateRequest('session', null);
  const onRoute = deps.onRoute;
  if (onRoute)
    app.addHook('onRoute', (r) => {
      for (const m of [r.method].flat()) onRoute(m, r.url);
    });
  // its onRequest hook parses the cookie header before ours reads the session
  await app.register(fastifyCookie);

  app.addHook('onRequest', async (req, reply) => {
    reply.headers(SECURITY_HEADERS);
    if (req.headers['x-forwarded-proto'] === 'http') {
      // the session cookie is Secure: everything goes over HTTPS
      const port = deps.httpsPort === 443 ? '' : `:${deps.httpsPort}`;
      return reply.code(308).header('location', `https://${deps.access.settings().host}${port}${req.url}`).send();
    }
    // assets and the health probe need no session: no database read for them
    if (!req.url.startsWith('/assets/') && req.url !== '/healthz') req.session = deps.access.authenticate(req.cookies[SESSION_COOKIE]);
  });
  app.addHook('onSend', async (_req, reply, payload) => {
    if (!reply.hasHeader('cache-control')) reply.header('cache-control', 'no-store');
    return payload;
  });
  app.setErrorHandler((err: { statusCode?: number; message?: string }, req, reply) => {
    const status = err.statusCode && err.statusCode >= 400 && err.statusCode < 500 ? err.statusCode : 500;
    if (status === 500) deps.log.error({ err, url: req.url }, 'dashboard request failed');
    void reply.code(status).send({ error: status === 500 ? 'internal error' : (err.message ?? 'bad request') });
  });
  app.setNotFoundHandler((req, reply) => {
    if (req.url.startsWith('/api/')) return reply.code(404).send({ error: 'no such API route' });
    return reply.code(404).type('text/plain; charset=utf-8').send('Not found\n');
  });

  await app.register(fastifyStatic, {
    root: deps.assetsDir,
    prefix: '/assets/',
    preCompressed: true,
    index: false,
    dotfiles: 'deny',
    cacheControl: false,
    setHeaders(res, file) {
      const vendor = file.includes(`${deps.assetsDir.replace(/\/$/, '')}/vendor/`);
      res.setHeader('cache-control', vendor ? 'public, max-age=31536000, immutable' : 'no-cache');
    },
  });

  app.get('/healthz', async (_req, reply) => reply.type('text/plain').send('ok\n'));

  // ---- pages ----
  const shell = (reply: FastifyReply) => reply.type('text/html; charset=utf-8').send(deps.pages.shell);
  const needLogin = (reply: FastifyReply) => reply.code(303).header('location', '/login-needed').send();
  app.get('/', async (req, reply) => (req.session ? shell(reply) : needLogin(reply)));
  app.get('/host', async (req, reply) => {
    if (!req.session) return needLogin(reply);
    if (req.session.identity.role !== 'admin') return reply.code(403).type('text/plain; charset=utf-8').send("'host' needs an admin key\n");
    return shell(reply);
  });
  app.get<{ Params: { app: string } }>('/apps/:app', async (req, reply) => {
    if (!req.session) return needLogin(reply);
    const why = appRefusal(req.session.identity, 'apps:info', req.params.app);
    if (why) return reply.code(403).type('text/plain; charset=utf-8').send(`${why}\n`);
    return shell(reply);
  });
  app.get('/login-needed', async (_req, reply) => reply.type('text/html; charset=utf-8').send(deps.pages.loginNeeded));
  app.get<{ Params: { token: string }; Querystring: { next?: string } }>('/login/:token', async (req, reply) => {
    // a HEAD (a link checker, a chat preview) never uses the link up
    if (req.method === 'HEAD') return reply.type('text/html; charset=utf-8').send('');
    let opened: ReturnType<DashboardService['login']>;
    try {
      opened = deps.access.login(req.params.token, clientOf(req), String(req.headers['user-agent'] ?? ''));
    } catch (err) {
      if ((err as { status?: number }).status === 429)
        return reply
          .code(429)
          .type('text/plain; charset=utf-8')
          .send(`${(err as Error).message}\n`);
      throw err;
    }
    if (opened === null) return reply.code(410).type('text/html; charset=utf-8').send(deps.pages.linkExpired);
    deps.log.info({ session: opened.id, client: clientOf(req) }, 'dashboard session opened');
    return reply
      .code(303)
      .setCookie(SESSION_COOKIE, opened.secret, sessionCookieOptions(deps.access.settings().sessionTtlMs / 1000))
      .header('location', opened.next)
      .send();
  });

  // ---- API (a session is required from here on) ----
  app.register(async (api) => {
    api.addHook('onRequest', async (req, reply) => {
      if (!req.session) return reply.code(401).send({ error: 'not logged in' });
    });
    api.get('/api/session', async (req) => {
      const s = req.session!;
      return {
        key: s.keyName,
        role: s.identity.role,
        apps: visibleApps(s.identity),
        canCreate: s.identity.canCreate,
        csrf: s.csrf,
        expiresAt: new Date(s.expiresAt).toISOString(),
      };
    });
    api.post('/api/run', async (req, reply) => {
      const s = req.session!;
      const csrf = csrfRefusal(req, s.csrf, deps.access.settings().host);
      if (csrf) return reply.code(403).send({ error: csrf });
      const argv = (req.body as { argv?: unknown } | null)?.argv;
      const why = deps.gate(argv);
      if (why) return reply.code(argv === undefined || !Array.isArray(argv) ? 400 : 403).send({ error: why });
      // the client went away before the answer: the command is interrupted as ssh's would be
      const ac = new AbortController();
      reply.raw.once('close', () => {
        if (!reply.raw.writableFinished) ac.abort();
      });
      return deps.runner.capture(argv as string[], s.identity, ac.signal);
    });
    api.get<{ Params: { app: string }; Querystring: { process?: string } }>('/api/apps/:app/logs', async (req, reply) => {
      const s = req.session!;
      const why = appRefusal(s.identity, 'logs', req.params.app);
      if (why) return reply.code(why.startsWith('key ') ? 403 : 404).send({ error: why });
      const words = ['logs', req.params.app, '-t'];
      if (req.query.process !== undefined) {
        if (!PROCESS_TYPE.test(req.query.process))
          return reply.code(400).send({ error: `'${req.query.process.slice(0, 30)}' is not a process type` });
        words.push('-p', req.query.process);
      }
      const ac = deps.streams.add(s.id, s.fingerprint);
      reply.raw.once('close', () => ac.abort());
      reply.hijack();
      const sse = new SseStream(reply.raw, headersOf(reply), ac.signal);
      const code = await deps.runner.follow(words, s.identity, ac.signal, (line) => sse.send('line', line));
      sse.send('end', String(code));
      sse.close();
      ac.abort();
    });
    api.get<{ Params: { app: string } }>('/api/apps/:app/deploy', async (req, reply) => {
      const s = req.session!;
      const why = appRefusal(s.identity, 'logs', req.params.app);
      if (why) return reply.code(why.startsWith('key ') ? 403 : 404).send({ error: why });
      const ac = deps.streams.add(s.id, s.fingerprint);
      reply.raw.once('close', () => ac.abort());
      reply.hijack();
      const sse = new SseStream(reply.raw, headersOf(reply), ac.signal);
      const off = deps.hub.subscribe(req.params.app, (e) => {
        if (e.type === 'line') sse.send('line', e.text);
        else if (e.type === 'idle') sse.send('idle', '');
        else sse.send('done', JSON.stringify(e.ok ? { ok: true, release: e.release } : { ok: false, error: e.error }));
      });
      ac.signal.addEventListener('abort', () => {
        off();
        sse.close();
      });
    });
    api.get<{ Querystring: { range?: string } }>('/api/metrics', async (req, reply) => {
      const range = RANGES[req.query.range ?? '1h'];
      if (range === undefined) return reply.code(400).send({ error: 'range must be 1h, 1d or 1w' });
      return deps.history.overview(visibleApps(req.session!.identity), range);
    });
    api.get<{ Params: { app: string }; Querystring: { range?: string } }>('/api/apps/:app/metrics', async (req, reply) => {
      const why = appRefusal(req.session!.identity, 'metrics', req.params.app);
      if (why) return reply.code(why.startsWith('key ') ? 403 : 404).send({ error: why });
      const range = RANGES[req.query.range ?? '1h'];
      if (range === undefined) return reply.code(400).send({ error: 'range must be 1h, 1d or 1w' });
      return deps.history.app(req.params.app, range);
    });
    api.get('/api/host', async (req, reply) => {
      if (req.session!.identity.role !== 'admin') return reply.code(403).send({ error: "'host' needs an admin key" });
      return deps.hostReport();
    });
  });

  /** The CLI's refusal for `command` on `app`, or its 'not found' line; null when the identity reaches it. */
  function appRefusal(identity: Identity, command: string, name: string): string | null {
    if (!isAppName(name))
      return identity.role === 'admin'
        ? `invalid app name '${name.slice(0, 60)}'`
        : `key '${identity.keyName}' has no access to app '${name.slice(0, 60)}'`;
    const exists = deps.appNames().includes(name);
    const why = refusal(identity, command, 'app', name, exists);
    if (why) return why;
    return exists ? null : `app '${name}' does not exist`;
  }

  function visibleApps(identity: Identity): string[] {
    return deps.appNames().filter((a) => canReach(identity, a));
  }

  return app;
}

/** The client's address: the proxy in front sets X-Real-IP (the listener is on loopback: only it and local processes reach it). */
function clientOf(req: FastifyRequest): string {
  const real = req.headers['x-real-ip'];
  return (Array.isArray(real) ? real[0] : real) ?? req.socket.remoteAddress ?? 'unknown';
}

function headersOf(reply: FastifyReply): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(reply.getHeaders())) if (typeof v === 'string') out[k] = v;
  return out;
}
