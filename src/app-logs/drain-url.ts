import { AppLogsErrors } from './app-logs-errors.js';

/** Where an app's lines are shipped: syslog over TCP or TLS (RFC 5424, octet counting), or HTTP(S) POSTs. */
export interface DrainTarget {
  kind: 'syslog' | 'syslog+tls' | 'https' | 'http';
  host: string;
  port: number;
  /** the URL as given, normalised */
  url: string;
}

const KINDS = ['syslog:', 'syslog+tls:', 'https:', 'http:'];

/** `syslog+tls://logs.example.com:6514`, `syslog://10.0.0.5:514`, `https://user:pw@host/path`; anything else is refused. */
export function parseDrainUrl(text: string): DrainTarget {
  const bad = (why: string) =>
    AppLogsErrors.usage(`drain must be a syslog://, syslog+tls://, https:// or http:// URL, ${why}; nothing was changed`);
  let u: URL;
  try {
    u = new URL(text.trim());
  } catch {
    throw bad(`got '${text}'`);
  }
  if (!KINDS.includes(u.protocol)) throw bad(`got scheme '${u.protocol.replace(/:$/, '')}'`);
  if (!u.hostname) throw bad(`got no host in '${text}'`);
  const kind = u.protocol.slice(0, -1) as DrainTarget['kind'];
  if ((kind === 'syslog' || kind === 'syslog+tls') && (!u.port || (u.pathname !== '' && u.pathname !== '/') || u.search))
    throw bad(`a syslog drain is host:port only, got '${text}'`);
  const port = Number(u.port || (kind === 'https' ? 443 : 80));
  const host = u.hostname.replace(/^\[|\]$/g, '');
  return { kind, host, port, url: u.toString() };
}

/** The URL with any password hidden, for reports and the server log. */
export function redactDrainUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return url;
  }
}

/**
 * Whether a drain host names this machine or a link-local address: `localhost`, 127.0.0.0/8,
 * ::1, 0.0.0.0, ::, 169.254.0.0/16 (cloud metadata), fe80::/10, and IPv4-mapped forms of those.
 * Names are not resolved: a DNS name pointing at such an address is not caught here.
 */
export function isLocalDrainHost(host: string): boolean {
  const h = host.toLowerCase().replace(/\.$/, '');
  if (h === 'localhost' || h.endsWith('.localhost')) return true;
  const v4 = /^(?:::ffff:)?(\d+)\.(\d+)\.\d+\.\d+$/.exec(h);
  if (v4) return v4[1] === '127' || v4[1] === '0' || (v4[1] === '169' && v4[2] === '254');
  return h === '::1' || h === '::' || /^fe[89ab][0-9a-f]?:/.test(h);
}
