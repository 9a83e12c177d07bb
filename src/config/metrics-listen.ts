import net from 'node:net';
import path from 'node:path';

/** Where the metrics endpoint listens: a TCP address, a unix socket, or nowhere. */
export type MetricsListen = { kind: 'off' } | { kind: 'tcp'; host: string; port: number } | { kind: 'unix'; path: string };

/** `--metrics-listen`'s default: loopback only, never the public ports. */
export const DEFAULT_METRICS_LISTEN = '127.0.0.1:9150';

/**
 * Parses `off`, `ADDR:PORT` (`[v6]:PORT` for IPv6; port 0 picks a free one) or an absolute unix
 * socket path. Returns a reason string for anything else, so the caller raises its own error.
 */
export function parseMetricsListen(raw: string): MetricsListen | string {
  const v = raw.trim();
  if (v === 'off') return { kind: 'off' };
  if (v.startsWith('/')) {
    if (v.length > 100 || path.normalize(v) !== v || v.endsWith('/') || /[\0\n\r]/.test(v))
      return `'${raw}' is not a usable unix socket path (absolute, normalized, at most 100 characters)`;
    return { kind: 'unix', path: v };
  }
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([0-9.]+|localhost)):(\d{1,5})$/.exec(v);
  const host = m ? (m[1] ?? m[2]) : undefined;
  const port = m ? Number(m[3]) : Number.NaN;
  if (host === undefined || !(port >= 0 && port <= 65535) || (host !== 'localhost' && net.isIP(host) === 0))
    return `'${raw}' is not ADDR:PORT (e.g. 127.0.0.1:9150, [::1]:9150), an absolute unix socket path, or off`;
  return { kind: 'tcp', host, port };
}

/** The listen address as a user writes it. */
export function formatMetricsListen(l: MetricsListen): string {
  if (l.kind === 'off') return 'off';
  if (l.kind === 'unix') return l.path;
  return `${l.host.includes(':') ? `[${l.host}]` : l.host}:${l.port}`;
}
