import http from 'node:http';
import http2 from 'node:http2';
import type { Socket } from 'node:net';
import tls, { type TLSSocket } from 'node:tls';
import type { TlsStore } from './tls-store.js';

/** Response headers HTTP/2 forbids (RFC 9113 8.2.2): connection-specific ones. */
const H2_FORBIDDEN = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade']);

/** Concurrent streams one HTTP/2 connection may open. */
export const H2_MAX_STREAMS = 128;

type Handler = (req: http.IncomingMessage, res: http.ServerResponse) => void;

function withoutForbidden(headers: unknown): unknown {
  if (Array.isArray(headers)) {
    const out: unknown[] = [];
    for (let i = 0; i < headers.length; i += 2)
      if (!H2_FORBIDDEN.has(String(headers[i]).toLowerCase())) out.push(headers[i], headers[i + 1]);
    return out;
  }
  if (headers && typeof headers === 'object') {
    return Object.fromEntries(Object.entries(headers).filter(([k]) => !H2_FORBIDDEN.has(k.toLowerCase())));
  }
  return headers;
}

/**
 * An HTTP/2 stream made to look like the HTTP/1.1 request the proxy's handler reads: Host from
 * :authority, raw headers without the pseudo-headers; the response drops the connection-specific
 * headers an HTTP/1.1 upstream sends (HTTP/2 refuses them) and says `destroyed` once its stream
 * closed. The upstream is still spoken to in HTTP/1.1.
 */
function adaptH2(req: http2.Http2ServerRequest, res: http2.Http2ServerResponse): void {
  const authority = req.headers[':authority'];
  if (req.headers.host === undefined && typeof authority === 'string') req.headers.host = authority;
  const raw = req.rawHeaders;
  const plain: string[] = [];
  let hasHost = false;
  for (let i = 0; i < raw.length; i += 2) {
    if (raw[i].charCodeAt(0) === 58 /* ':' */) continue;
    if (raw[i].length === 4 && raw[i].toLowerCase() === 'host') hasHost = true;
    plain.push(raw[i], raw[i + 1]);
  }
  if (!hasHost && typeof authority === 'string') plain.unshift('host', authority);
  // HTTP/2 marks a body by DATA frames, not by a header: one of unknown length goes on chunked
  if (!req.stream.endAfterHeaders && req.headers['content-length'] === undefined) {
    req.headers['transfer-encoding'] = 'chunked';
    plain.push('transfer-encoding', 'chunked');
  }
  Object.defineProperty(req, 'rawHeaders', { value: plain });
  const writeHead = res.writeHead.bind(res) as (...a: unknown[]) => unknown;
  (res as unknown as { writeHead: (...a: unknown[]) => unknown }).writeHead = (status: unknown, ...rest: unknown[]) =>
    writeHead(status, ...rest.map((r) => (typeof r === 'string' ? r : withoutForbidden(r))));
  // the compatibility response has no `destroyed`: it is the stream's closing. An HTTP/2 request
  // ends ('end') when its stream closes, so without it a cut body looks whole to the handler and
  // would be sent upstream
  const stream = res.stream;
  Object.defineProperty(res, 'destroyed', { get: () => stream.closed || stream.destroyed });
  const setHeader = res.setHeader.bind(res);
  res.setHeader = ((name: string, value: string | string[]) =>
    H2_FORBIDDEN.has(name.toLowerCase()) ? res : setHeader(name, value)) as typeof res.setHeader;
}

export interface TlsServer {
  /** the listening socket: TLS with SNI and ALPN */
  server: tls.Server;
  /** HTTP/1.1 over TLS (and websocket upgrades): a plain http.Server fed the TLS sockets, so it keeps every HTTP/1.1 limit */
  http1: http.Server;
  /** HTTP/2 over TLS: its sessions and streams get the edge timeouts (ConnectionLimiter.attachH2Timeouts) */
  h2: http2.Http2Server;
  /** graceful: HTTP/2 sessions take no new streams, idle HTTP/1.1 connections close */
  closeIdle(): void;
  /** every client connection is closed now */
  closeAll(): void;
}

/**
 * The HTTPS listener: TLS with SNI from the store and ALPN `h2` then `http/1.1`. An `h2` connection
 * goes to an HTTP/2 server, anything else to an HTTP/1.1 server (made with `http1Options`), both
 * handing every request to `handler`; upstreams are spoken to in HTTP/1.1 either way.
 */
export function createTlsServer(
  defaultPair: { cert: Buffer; key: Buffer },
  store: TlsStore,
  http1Options: http.ServerOptions,
  handler: Handler,
): TlsServer {
  const sessions = new Set<http2.ServerHttp2Session>();
  // as nginx (http2_max_concurrent_streams 128): Node's default is unlimited, which lets one
  // connection hold any number of requests past the per-connection caps
  const h2 = http2.createServer({ settings: { maxConcurrentStreams: H2_MAX_STREAMS } }, (req, res) => {
    adaptH2(req, res);
    handler(req as unknown as http.IncomingMessage, res as unknown as http.ServerResponse);
  });
  h2.on('session', (s) => {
    sessions.add(s);
    s.once('close', () => sessions.delete(s));
  });
  const http1 = http.createServer(http1Options, handler);
  const server = tls.createServer(
    { ALPNProtocols: ['h2', 'http/1.1'], cert: defaultPair.cert, key: defaultPair.key, SNICallback: store.sniCallback },
    (socket: TLSSocket) => {
      if (socket.alpnProtocol === 'h2') h2.emit('connection', socket);
      else http1.emit('connection', socket);
    },
  );
  // a TLS handshake that fails (a scanner, a client refusing the certificate) is not an error of the server
  server.on('tlsClientError', (_err: Error, socket: Socket) => socket.destroy());
  return {
    server,
    http1,
    h2,
    closeIdle() {
      for (const s of sessions) s.close();
      http1.closeIdleConnections();
    },
    closeAll() {
      for (const s of sessions) s.destroy();
      http1.closeAllConnections();
    },
  };
}
