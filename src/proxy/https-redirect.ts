import type { FastifyReply, FastifyRequest } from 'fastify';
import { ACME_CHALLENGE_PREFIX, type ChallengeStore } from './acme-challenges.js';
import type { TlsStore } from './tls-store.js';

/** One year, the value hstspreload.org and Mozilla's guidelines ask for. */
export const HSTS_VALUE = 'max-age=31536000';

/**
 * What a request meets before routing: on plain HTTP, a pending ACME challenge is answered (other
 * challenge paths go to the app, never redirected) and a host with a certificate (and redirect on) gets a 308 to https:// with path and query kept; on
 * HTTPS, a host with hsts on gets Strict-Transport-Security on whatever answers. Returns true
 * when it answered the request itself.
 */
export function frontDoor(tlsStore: TlsStore, challenges: ChallengeStore, httpsPort: () => number) {
  return (request: FastifyRequest, reply: FastifyReply): boolean => {
    const raw = request.raw;
    const url = raw.url ?? '/';
    if ((raw.socket as { encrypted?: boolean }).encrypted) {
      if (tlsStore.policy(request.headers.host)?.hsts) reply.raw.setHeader('strict-transport-security', HSTS_VALUE);
      return false;
    }
    if (url.startsWith(ACME_CHALLENGE_PREFIX)) {
      // a pending token is answered here; any other challenge path goes to the app, never redirected
      const keyAuthorization = challenges.answer(url);
      if (keyAuthorization === undefined) return false;
      reply.code(200).header('content-type', 'text/plain').header('cache-control', 'no-store').send(keyAuthorization);
      return true;
    }
    const host = request.headers.host;
    if (host === undefined || !tlsStore.policy(host)?.redirect) return false;
    const colon = host.lastIndexOf(':');
    const name = colon > 0 && !host.endsWith(']') ? host.slice(0, colon) : host;
    const port = httpsPort();
    const location = `https://${name}${port === 443 ? '' : `:${port}`}${url.startsWith('/') ? url : `/${url}`}`;
    reply.code(308).header('location', location).header('content-type', 'text/plain').send(`Redirecting to ${location}\n`);
    return true;
  };
}
