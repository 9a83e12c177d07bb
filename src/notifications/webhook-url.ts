import { NotificationErrors } from './notification-errors.js';

const MAX_URL = 2048;
/** a path segment this long is a token (Slack's /services/T/B/<token>, Discord's /api/webhooks/<id>/<token>) */
const TOKEN_SEGMENT = 16;

/** A webhook URL as `notifications:add` takes it: http or https, a host, no spaces; returns it normalised. */
export function parseWebhookUrl(raw: string): URL {
  const refuse = (why: string) => NotificationErrors.badUrl(`invalid webhook URL: ${why}`);
  if (raw.length > MAX_URL) throw refuse(`longer than ${MAX_URL} characters`);
  if (/[\s\u0000-\u001f\u007f]/.test(raw)) throw refuse('it contains spaces or control characters');
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw refuse('expected http(s)://host[:port]/path');
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw refuse(`${url.protocol.replace(/:$/, '')} is not http or https`);
  if (!url.hostname) throw refuse('it names no host');
  url.hash = '';
  return url;
}

/**
 * The URL as `notifications:list` shows it: no credentials (user and password, query values, and
 * path segments long enough to be tokens, as in Slack and Discord webhook URLs, become `***`).
 */
export function maskWebhookUrl(raw: string): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return '***';
  }
  const auth = url.username || url.password ? '***@' : '';
  const pathname = url.pathname
    .split('/')
    .map((s) => (s.length >= TOKEN_SEGMENT ? '***' : s))
    .join('/');
  const query = [...url.searchParams.keys()].map((k) => `${encodeURIComponent(k)}=***`).join('&');
  return `${url.protocol}//${auth}${url.host}${pathname}${query ? `?${query}` : ''}`;
}
