import { sameSecret } from './dashboard-secrets.js';

export interface CsrfRequest {
  headers: Record<string, string | string[] | undefined>;
}

const one = (v: string | string[] | undefined): string | undefined => (Array.isArray(v) ? v[0] : v);

/**
 * Null when a state-changing request may run; otherwise why not. It must carry the session's CSRF
 * token in X-CSRF-Token and a JSON body (a cross-site form cannot send either), and when the browser
 * says where it comes from (Sec-Fetch-Site, Origin) that must be this very origin.
 */
export function csrfRefusal(req: CsrfRequest, sessionCsrf: string, dashboardHost: string): string | null {
  const site = one(req.headers['sec-fetch-site']);
  if (site !== undefined && site !== 'same-origin') return 'cross-site request refused';
  const origin = one(req.headers.origin);
  if (origin !== undefined) {
    let u: URL;
    try {
      u = new URL(origin);
    } catch {
      return 'cross-site request refused';
    }
    const host = one(req.headers.host)?.toLowerCase();
    if (u.protocol !== 'https:' || u.hostname !== dashboardHost || (host !== undefined && u.host !== host))
      return 'cross-site request refused';
  }
  const type = one(req.headers['content-type']) ?? '';
  if (!/^application\/json\s*(;|$)/i.test(type)) return 'requests must be application/json';
  const token = one(req.headers['x-csrf-token']);
  if (token === undefined || token === '' || !sameSecret(token, sessionCsrf)) return 'missing or wrong CSRF token';
  return null;
}
