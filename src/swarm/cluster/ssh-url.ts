import net from 'node:net';
import { ClusterErrors } from './cluster-errors.js';

export interface SshTarget {
  user: string;
  host: string;
  port: number;
}

const HOSTNAME = /^(?=.{1,253}$)[a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?(\.[a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?)*$/;
const USER = /^[a-z_][a-z0-9_.-]{0,31}$/;

/** Parses `ssh://USER@ADDR[:PORT]` (an IPv6 address in brackets); anything else is bad input. */
export function parseSshUrl(text: string): SshTarget {
  const bad = (why: string) => ClusterErrors.usage(`bad node address '${text}': ${why} (expected ssh://USER@ADDR[:PORT])`);
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw bad('not a URL');
  }
  if (url.protocol !== 'ssh:') throw bad('the scheme must be ssh://');
  if (!url.username) throw bad('a user is needed');
  if (url.password) throw bad('no password: paas logs in with its own key (nodes:ssh-key)');
  if ((url.pathname && url.pathname !== '/') || url.search || url.hash) throw bad('no path, query or fragment');
  const user = decodeURIComponent(url.username);
  if (!USER.test(user)) throw bad(`'${user}' is not a user name`);
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
  if (!net.isIP(host) && !HOSTNAME.test(host)) throw bad(`'${host}' is not a host name or address`);
  const port = url.port ? Number(url.port) : 22;
  return { user, host, port };
}

/** `host:port` as a key for the recorded host keys (IPv6 in brackets). */
export function hostPort(t: { host: string; port: number }): string {
  return net.isIPv6(t.host) ? `[${t.host}]:${t.port}` : `${t.host}:${t.port}`;
}
