import { chmod, unlink } from 'node:fs/promises';
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';
import { isAppError } from '../../errors/app-error.js';
import type { Logger } from '../../log/logger.js';
import type { ProxyController } from './proxy-controller.js';
import { takeHeld } from '../process/held-connections.js';
import type { HandoverRequest } from '../process/proxy-handover.js';
import { ProxyErrors } from '../proxy-errors.js';
import { parseControls, parseServiceSpec } from '../routing/service-spec.js';
import type { TlsController } from './tls-controller.js';
import { handleTlsRoute } from './tls-routes.js';

export interface ProxyStatus {
  pid: number;
  httpPort: number;
  httpsPort: number;
  services: number;
  /** the proxy's package version and when its code was built (tells an upgraded proxy from the old one) */
  version?: string;
  /** processes carrying traffic */
  workers?: number;
}

const MAX_BODY = 1 << 20;

function readJson(req: http.IncomingMessage): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY) {
        reject(ProxyErrors.invalidSpec('request body is larger than 1 MiB'));
        req.destroy();
        return;
      }
      chunks.push(c);
    });
    req.once('end', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      if (text.trim() === '') return resolve({});
      try {
        resolve(JSON.parse(text));
      } catch {
        reject(ProxyErrors.invalidSpec('request body is not valid JSON'));
      }
    });
    req.once('error', reject);
  });
}

/** The proxy's control API: JSON over HTTP on a unix socket (mode 0600), used through ProxyClient. */
export class ControlApi {
  private readonly server: http.Server;
  private readonly controller: ProxyController;
  private readonly status: () => ProxyStatus;
  private readonly log: Logger;
  private readonly tls: TlsController | null;
  private inherited: net.Server | null = null;
  private successor: number | null = null;
  /** set by the proxy: starts a successor on the listening sockets (POST /handover) */
  onHandover: ((req: HandoverRequest) => Promise<{ pid: number }>) | null = null;
  /** told once the hand-over's answer is sent: the proxy drains and exits */
  onHandedOver: (() => void) | null = null;

  constructor(controller: ProxyController, status: () => ProxyStatus, logger: Logger, tls: TlsController | null = null) {
    this.controller = controller;
    this.status = status;
    this.log = logger;
    this.tls = tls;
    this.server = http.createServer((req, res) => void this.handle(req, res));
    this.server.requestTimeout = 0;
    this.server.headersTimeout = 30_000;
  }

  async listen(socketPath: string): Promise<void> {
    await removeStaleSocket(socketPath);
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(socketPath, () => {
        this.server.off('error', reject);
        resolve();
      });
    });
    await chmod(socketPath, 0o600);
  }

  /** Serves on a control socket handed over by a previous proxy instead of binding one. */
  listenOn(inherited: net.Server): void {
    this.inherited = inherited;
    const serve = (socket: net.Socket) => {
      this.server.emit('connection', socket);
      socket.resume();
    };
    inherited.on('connection', serve);
    for (const socket of takeHeld(inherited)) serve(socket);
  }

  /** The listening control socket (to hand to a successor). */
  socket(): net.Server {
    return this.inherited ?? this.server;
  }

  /** After a hand-over: every request is answered 503 'handed over' (the client retries and reaches the successor). */
  handedOverTo(pid: number): void {
    this.successor = pid;
  }

  close(): Promise<void> {
    this.inherited?.close();
    return new Promise((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const send = (status: number, body: unknown) => {
      const text = JSON.stringify(body);
      res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
      res.end(text);
    };
    try {
      if (this.successor !== null) throw ProxyErrors.handedOver(`this proxy handed over to pid ${this.successor}; retry`);
      const url = new URL(req.url ?? '/', 'http://proxy');
      const parts = url.pathname.split('/').filter(Boolean).map(decodeURIComponent);
      const method = req.method ?? 'GET';
      if (method === 'GET' && url.pathname === '/status') return send(200, this.status());
      if (method === 'GET' && url.pathname === '/services') return send(200, await this.controller.list());
      if (method === 'GET' && url.pathname === '/figures') return send(200, await this.controller.figures());
      if (method === 'GET' && url.pathname === '/access-log') {
        const q = parseAccessLogQuery(url.searchParams);
        return send(200, await this.controller.accessLog(q.app, q.since, q.limit));
      }
      if (method === 'POST' && url.pathname === '/handover' && this.onHandover) {
        const r = await this.onHandover(parseHandover(await readJson(req)));
        // this process stops only once the answer is out
        res.once('finish', () => this.onHandedOver?.());
        return send(200, r);
      }
      if (method === 'GET' && url.pathname === '/report') return send(200, { status: this.status(), ...(await this.controller.report()) });
      if (parts.length === 2 && parts[0] === 'services') {
        const name = parts[1];
        if (method === 'PUT') {
          const spec = parseServiceSpec(await readJson(req));
          return send(200, await this.controller.deploy(name, spec));
        }
        if (method === 'DELETE') return send(200, await this.controller.remove(name));
      }
      if (parts.length === 3 && parts[0] === 'services' && parts[2] === 'controls' && method === 'PUT') {
        return send(200, await this.controller.setControls(parts[1], parseControls(await readJson(req))));
      }
      // TLS: certificates, SNI hosts and ACME challenges (tls-routes.ts)
      const tlsReply = this.tls ? await handleTlsRoute(this.tls, method, parts, () => readJson(req)) : undefined;
      if (tlsReply !== undefined) return send(200, tlsReply);
      throw ProxyErrors.notFound(`no control endpoint ${method} ${url.pathname}`);
    } catch (err) {
      if (isAppError(err)) return send(err.status, { code: err.code, message: err.message });
      this.log.error({ err: (err as Error).message, stack: (err as Error).stack }, 'control request failed');
      return send(500, { code: ProxyErrors.internal.code, message: `internal error: ${(err as Error).message}` });
    }
  }
}

function parseHandover(body: unknown): HandoverRequest {
  const b = (body ?? {}) as Record<string, unknown>;
  const strings = (v: unknown) => Array.isArray(v) && v.every((x) => typeof x === 'string');
  if (typeof b.main !== 'string' || !path.isAbsolute(b.main) || !strings(b.execArgv) || !strings(b.args)) {
    throw ProxyErrors.invalidSpec('handover needs main (an absolute path), execArgv and args');
  }
  return { main: b.main, execArgv: b.execArgv as string[], args: b.args as string[] };
}

/** A socket file left by a dead proxy is removed; one a live proxy answers on is an error. */
async function removeStaleSocket(socketPath: string): Promise<void> {
  const alive = await new Promise<boolean>((resolve) => {
    const s = net.connect(socketPath);
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
  if (alive) throw ProxyErrors.alreadyRunning(`another proxy is already listening on ${socketPath}`);
  await unlink(socketPath).catch(() => {});
}

/** GET /access-log?app=NAME&since=EPOCH_MS&limit=N, checked. */
function parseAccessLogQuery(q: URLSearchParams): { app: string; since: number; limit: number } {
  const app = q.get('app') ?? '';
  const since = Number(q.get('since') ?? '0');
  const limit = Number(q.get('limit') ?? '100');
  if (!/^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,99}$/.test(app)) throw ProxyErrors.invalidSpec('access-log: app must be a service name');
  if (!Number.isFinite(since) || since < 0) throw ProxyErrors.invalidSpec('access-log: since must be epoch milliseconds');
  if (!Number.isInteger(limit) || limit < 1 || limit > 10_000) throw ProxyErrors.invalidSpec('access-log: limit must be 1 to 10000');
  return { app, since, limit };
}
