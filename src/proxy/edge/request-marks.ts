import type http from 'node:http';
import type { Socket } from 'node:net';
import type { StallWatched } from '../routing/target-liveness.js';

/** The exchange a request to an upstream belongs to, marked on Node's ClientRequest. */
const EXCHANGE = Symbol('exchange');
type MarkedRequest = http.ClientRequest & { [EXCHANGE]?: StallWatched };

/** Marks `req` as run by `exchange` (one property; nothing is registered per request). */
export function markRequest(req: http.ClientRequest, exchange: StallWatched): void {
  (req as MarkedRequest)[EXCHANGE] = exchange;
}

/** The exchange whose request runs on a busy pooled connection, if any (Node keeps the request on `_httpMessage`). */
export function exchangeOn(socket: Socket): StallWatched | undefined {
  return (socket as Socket & { _httpMessage?: MarkedRequest | null })._httpMessage?.[EXCHANGE];
}
