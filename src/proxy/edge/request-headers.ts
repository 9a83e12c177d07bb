import type http from 'node:http';
import { connectionTokens, HOP_BY_HOP } from './hop-by-hop.js';
import { plainAddress, type TrustedProxies } from '../../util/trusted-proxies.js';

/**
 * Request headers never passed to an upstream: hop-by-hop ones (they describe the client's
 * connection), Expect (the proxy answers 100-continue itself) and the forwarding headers the proxy
 * sets itself. Lowercase names.
 */
const DROPPED = new Set<string>([
  ...HOP_BY_HOP,
  'expect',
  'x-forwarded-for',
  'x-forwarded-proto',
  'x-forwarded-host',
  'x-real-ip',
  'x-request-id',
  'forwarded',
]);
const DROPPED_LENGTHS = new Set([...DROPPED].map((h) => h.length));

/** Forwarding headers a trusted proxy may set; kept from it as they came. */
const KEPT_FROM_TRUSTED = new Set(['x-forwarded-proto', 'x-forwarded-host', 'forwarded']);

export interface ForwardInfo {
  /** the request id (the client's valid X-Request-Id, or a generated one) */
  requestId: string;
  /** the connection is TLS */
  https: boolean;
  /** the request carries a chunked body that is sent on chunked */
  chunked: boolean;
  /** a chunked body read whole before sending: sent with this Content-Length instead (as nginx does) */
  contentLength?: number | null;
  /** the connection is a websocket upgrade: Connection and Upgrade go on */
  websocket?: boolean;
}

/** Connection options that are not header names. */
const CONNECTION_OPTIONS = new Set(['close', 'keep-alive', 'upgrade']);

/**
 * The header list sent to the upstream for a client request, as [name, value, ...]: the client's
 * own headers (original case and order) without the hop-by-hop ones, then Host, X-Forwarded-For,
 * X-Forwarded-Proto, X-Forwarded-Host, X-Real-IP and X-Request-Id. A trusted proxy's chain is
 * extended; anyone else's forwarding headers (Forwarded included) are replaced or dropped.
 */
export function upstreamRequestHeaders(req: http.IncomingMessage, trusted: TrustedProxies, info: ForwardInfo): string[] {
  const raw = req.rawHeaders;
  const peer = plainAddress(req.socket.remoteAddress);
  const isTrusted = trusted.has(peer);
  const named = connectionTokens(req.headers.connection, CONNECTION_OPTIONS);
  const out: string[] = [];
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i];
    if (DROPPED_LENGTHS.has(name.length) || named !== null) {
      const lower = name.toLowerCase();
      if (named?.has(lower)) continue;
      if (DROPPED.has(lower) && !(isTrusted && KEPT_FROM_TRUSTED.has(lower))) continue;
    }
    out.push(name, raw[i + 1]);
  }
  const h = req.headers;
  const priorRaw = h['x-forwarded-for'];
  const prior = Array.isArray(priorRaw) ? priorRaw.join(', ') : priorRaw;
  const xff = isTrusted && prior !== undefined ? `${prior}, ${peer}` : peer;
  out.push('X-Forwarded-For', xff);
  if (!(isTrusted && h['x-forwarded-proto'] !== undefined)) out.push('X-Forwarded-Proto', info.https ? 'https' : 'http');
  if (!(isTrusted && h['x-forwarded-host'] !== undefined) && h.host !== undefined) out.push('X-Forwarded-Host', h.host);
  out.push('X-Real-IP', isTrusted ? trusted.clientAddress(peer, prior) : peer);
  out.push('X-Request-Id', info.requestId);
  if (info.contentLength !== undefined && info.contentLength !== null) out.push('Content-Length', String(info.contentLength));
  else if (info.chunked) out.push('Transfer-Encoding', 'chunked');
  if (info.websocket) out.push('Connection', 'Upgrade', 'Upgrade', 'websocket');
  return out;
}

/** The longest X-Request-Id a client may choose. */
export const MAX_REQUEST_ID = 128;

/**
 * A request id a client may choose: 1 to 128 characters of `A-Z a-z 0-9 . _ : -` (what UUIDs,
 * ULIDs, Heroku's and most load balancers' ids are made of). Nothing else reaches the app or the
 * access log: no spaces, commas (two headers joined), quotes or control characters.
 */
export function isValidRequestId(id: string): boolean {
  const n = id.length;
  if (n === 0 || n > MAX_REQUEST_ID) return false;
  for (let i = 0; i < n; i++) {
    const c = id.charCodeAt(i);
    // 0-9 and ':' (48-58), A-Z, a-z, '-', '.', '_'
    if (!((c >= 48 && c <= 58) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 45 || c === 46 || c === 95)) return false;
  }
  return true;
}

/** The client's X-Request-Id when it is a valid one (isValidRequestId). */
export function givenRequestId(req: http.IncomingMessage): string | undefined {
  const given = req.headers['x-request-id'];
  return typeof given === 'string' && isValidRequestId(given) ? given : undefined;
}

/** The request id: the client's X-Request-Id when it is a valid one (isValidRequestId), else `generate()`. */
export function requestIdFor(req: http.IncomingMessage, generate: () => string): string {
  return givenRequestId(req) ?? generate();
}
