import type http from 'node:http';
import { ACME_CHALLENGE_PREFIX, type ChallengeStore } from './acme-challenges.js';
import type { FrontDoor } from './request-handler.js';
import type { TlsStore } from '../tls/tls-store.js';

/** One year, the value hstspreload.org and Mozilla's guidelines ask for. */
export const HSTS_VALUE = 'max-age=31536000';

const HSTS_HEADER = ['Strict-Transport-Security', HSTS_VALUE];
const NONE: string[] = [];

function answer(res: http.ServerResponse, status: number, body: string, headers: Record<string, string>): null {
  res.writeHead(status, { 'content-type': 'text/plain', 'content-length': Buffer.byteLength(body), ...headers });
  res.end(body);
  return null;
}

/**
 * What a request meets before routing: on plain HTTP, a pending ACME challenge is answered (other
 * challenge paths go to the app, never redirected) and a host with a certificate (and redirect on)
 * gets a 308 to https:// with path and query kept; on HTTPS, a host with hsts on gets
 * Strict-Transport-Security on whatever answers. Returns null when it answered the request itself.
 */
export function frontDoor(tlsStore: TlsStore, challenges: ChallengeStore, httpsPort: () => number): FrontDoor {
  return (req, res) => {
    const url = req.url ?? '/';
    if ((req.socket as { encrypted?: boolean }).encrypted) return tlsStore.policy(req.headers.host)?.hsts ? HSTS_HEADER : NONE;
    if (url.startsWith(ACME_CHALLENGE_PREFIX)) {
      const keyAuthorization = challenges.answer(url);
      if (keyAuthorization === undefined) return NONE;
      return answer(res, 200, keyAuthorization, { 'cache-control': 'no-store' });
    }
    const host = req.headers.host;
    if (host === undefined || !tlsStore.policy(host)?.redirect) return NONE;
    const colon = host.lastIndexOf(':');
    const name = colon > 0 && !host.endsWith(']') ? host.slice(0, colon) : host;
    const port = httpsPort();
    const location = `https://${name}${port === 443 ? '' : `:${port}`}${url.startsWith('/') ? url : `/${url}`}`;
    return answer(res, 308, `Redirecting to ${location}\n`, { location });
  };
}
