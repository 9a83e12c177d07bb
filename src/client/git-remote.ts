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

/**
 * Refuses a target ssh could read as an option: a host or user beginning with `-` (a remote
 * `ssh://-oProxyCommand=...@host/app` would otherwise run a local command), or one holding
 * whitespace or control characters. `from` names where it came from, for the one-line error.
 */
export function checkSshTarget<T extends RemoteTarget>(target: T, from: string): T {
  for (const [what, v] of [
    ['host', target.host],
    ['user', target.user],
  ] as const) {
    if (v.startsWith('-'))
      throw ClientErrors.badRemote(`refusing ${from}: its ${what} '${v}' begins with '-', which ssh would read as an option`);
    if (!v || /[\s\x00-\x1f\x7f]/.test(v))
      throw ClientErrors.badRemote(`refusing ${from}: its ${what} '${v}' is empty or holds whitespace or control characters`);
  }
  return target;
}

/** Parses `ssh://user@host:port/app(.git)`, `user@host:app(.git)` and `host:app`; a host or user beginning with `-` is refused. */
export function parseGitRemote(url: string): RemoteTarget {
  return checkSshTarget(parseRemoteUrl(url), `the git remote '${url}'`);
}

function parseRemoteUrl(url: string): RemoteTarget {
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
