import type { TlsController } from './tls-controller.js';

/**
 * The control API's TLS endpoints: `GET /tls`, `PUT /tls` (the whole state),
 * `PUT /acme-challenges/<token>` ({keyAuthorization}) and `DELETE /acme-challenges/<token>`.
 * Returns the reply body, or undefined when the request is not one of them.
 */
export async function handleTlsRoute(
  tls: TlsController,
  method: string,
  parts: string[],
  readBody: () => Promise<unknown>,
): Promise<unknown | undefined> {
  if (parts.length === 1 && parts[0] === 'tls') {
    if (method === 'GET') return tls.report();
    if (method === 'PUT') return tls.setState(await readBody());
  }
  if (parts.length === 2 && parts[0] === 'acme-challenges') {
    if (method === 'PUT') {
      const body = (await readBody()) as { keyAuthorization?: unknown };
      await tls.setChallenge(parts[1], body.keyAuthorization);
      return { ok: true };
    }
    if (method === 'DELETE') {
      await tls.removeChallenge(parts[1]);
      return { ok: true };
    }
  }
  return undefined;
}
