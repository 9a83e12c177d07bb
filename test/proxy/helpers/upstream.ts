import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocketServer } from 'ws';

export interface Upstream {
  name: string;
  port: number;
  address: string;
  server: http.Server;
  /** status the /up health path answers with */
  health: number;
  requests: number;
  /** how many requests whose path starts with `prefix` have arrived so far (answered or not) */
  hits(prefix: string): number;
  close(): Promise<void>;
}

/**
 * A plain Node upstream for tests: echoes what it received as JSON, `/slow?ms=N` waits first,
 * `/up` answers `health`, `/cookies` sets two cookies, and websockets echo messages prefixed with the upstream's name.
 */
export async function startUpstream(name: string, listenPort = 0): Promise<Upstream> {
  const state = { health: 200, requests: 0 };
  const paths: string[] = [];
  const server = http.createServer((req, res) => {
    state.requests++;
    paths.push(req.url ?? '/');
    const url = new URL(req.url ?? '/', 'http://x');
    if (url.pathname === '/up') {
      res.writeHead(up.health, { 'content-type': 'text/plain' });
      res.end(up.health === 200 ? 'ok' : 'down');
      return;
    }
    if (url.pathname === '/cookies') {
      res.writeHead(200, ['Set-Cookie', 'a=1; Path=/', 'Set-Cookie', 'b=2; Path=/', 'Content-Length', '2']);
      res.end('ok');
      return;
    }
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
    });
    req.on('end', () => {
      const reply = () => {
        const body = JSON.stringify({ name, method: req.method, url: req.url, headers: req.headers, bodyLength: size });
        res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
        res.end(body);
      };
      const ms = Number(url.searchParams.get('ms') ?? 0);
      if (url.pathname === '/slow' && ms > 0) setTimeout(reply, ms);
      else reply();
    });
  });
  server.keepAliveTimeout = 30_000;
  const wss = new WebSocketServer({ server });
  wss.on('connection', (ws) => {
    ws.send(`hello from ${name}`);
    ws.on('message', (data) => ws.send(`${name}: ${data.toString()}`));
  });
  await new Promise<void>((r) => server.listen(listenPort, '127.0.0.1', () => r()));
  const port = (server.address() as AddressInfo).port;
  const up: Upstream = {
    name,
    port,
    address: `127.0.0.1:${port}`,
    server,
    get health() {
      return state.health;
    },
    set health(v: number) {
      state.health = v;
    },
    get requests() {
      return state.requests;
    },
    hits: (prefix: string) => paths.filter((p) => p.startsWith(prefix)).length,
    close: async () => {
      for (const c of wss.clients) c.terminate();
      wss.close();
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  } as Upstream;
  return up;
}
