import { ClientErrors } from './client-errors.js';

export interface RemoteTarget {
  user: string;
  host: string;
  port: number | null;
  app: string | null;
}

const badRemote = (url: string) =>
  ClientErrors.badRemote(`cannot read host and app from the git remote '${url}' (expected ssh://paas@HOST:2222/APP or paas@HOST:APP)`);

const stripApp = (p: string): string | null => {
  const s = p
    .replace(/^\/+/, '')
    .replace(/^~\//, '')
    .replace(/\/+$/, '')
    .replace(/\.git$/, '');
  return s || null;
};

/** Parses `ssh://user@host:port/app(.git)`, `user@host:app(.git)` and `host:app`. */
export function parseGitRemote(url: string): RemoteTarget {
  if (url.startsWith('ssh://')) {
    let u: URL;
    try {
      u = new URL(url);
    } catch {
      throw badRemote(url);
    }
    if (!u.hostname) throw badRemote(url);
    return {
      user: decodeURIComponent(u.username) || 'paas',
      host: u.hostname.replace(/^\[|\]$/g, ''),
      port: u.port ? Number(u.port) : null,
      app: stripApp(u.pathname),
    };
  }
  const m = /^(?:([^@/]+)@)?([^:/]+):(.*)$/.exec(url);
  if (!m || /^[a-z+]+:\/\//i.test(url) || m[3].replace(/^\/+/, '').includes('/')) throw badRemote(url);
  return { user: m[1] ?? 'paas', host: m[2], port: null, app: stripApp(m[3]) };
}
