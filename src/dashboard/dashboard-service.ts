import { HOST_ADMIN, type Identity } from '../contracts/command-io.js';
import { parseDurationMs } from '../config/duration.js';
import { normalizeDomain } from '../inputs/operation-inputs.js';
import type { DashboardLoginsRepository } from '../state/dashboard-logins-repository.js';
import type { DashboardSessionRow, DashboardSessionsRepository } from '../state/dashboard-sessions-repository.js';
import type { SettingsRepository } from '../state/settings-repository.js';
import type { SshKeysRepository } from '../state/ssh-keys-repository.js';
import { DashboardErrors } from './dashboard-errors.js';
import { hashSecret, looksLikeSecret, newSecret, newSessionId } from './dashboard-secrets.js';
import { RateLimiter } from './rate-limiter.js';

export const DEFAULT_SESSION_TTL_MS = 12 * 3_600_000;
const MIN_SESSION_TTL_MS = 10_000;
export const DEFAULT_LOGIN_TTL_MS = 5 * 60_000;
/** login links a key may ask for per minute */
const LINKS_PER_KEY_PER_MINUTE = 20;
/** failed /login attempts (unknown, used or expired tokens) one client address may make per minute */
const FAILED_LOGINS_PER_ADDRESS_PER_MINUTE = 20;

const SETTING = { host: 'dashboard.host', enabled: 'dashboard.enabled', ttl: 'dashboard.session-ttl' } as const;

export interface DashboardSettings {
  host: string;
  enabled: boolean;
  sessionTtlMs: number;
}

export interface DashboardSessionInfo {
  id: string;
  key: string;
  client: string;
  userAgent: string;
  createdAt: string;
  expiresAt: string;
  lastSeen: string;
}

/** A live session and the identity of its key, read afresh. */
export interface AuthenticatedSession {
  id: string;
  keyName: string;
  fingerprint: string;
  csrf: string;
  expiresAt: number;
  identity: Identity;
}

export interface DashboardServiceDeps {
  logins: Pick<DashboardLoginsRepository, 'add' | 'take' | 'prune'>;
  sessions: Pick<DashboardSessionsRepository, 'add' | 'bySecret' | 'list' | 'touch' | 'remove' | 'prune'>;
  keys: Pick<SshKeysRepository, 'byName'>;
  /** the identity of a key by fingerprint, read afresh (KeyService.identify) */
  identify(fingerprint: string): Identity | null;
  settings: Pick<SettingsRepository, 'get' | 'set'>;
  globalDomain(): string;
  /** the app that answers on `host` (its default host or a custom domain), if any */
  hostOwner(host: string): string | null;
  /** the port the proxy serves HTTPS on (omitted from links when 443) */
  httpsPort(): number;
  /** sends the proxy the dashboard's route again (host or enabled changed) */
  applyRoute(): Promise<void>;
  /** told the ids of sessions that just ended, so their open streams close */
  onEnded(ids: readonly string[]): void;
  loginTtlMs?: number;
  now?: () => number;
}

/**
 * The dashboard's access: one-time login links made for an SSH key's identity, sessions in SQLite
 * (hashed secrets) that survive a control-plane restart, their listing and revocation, and the
 * dashboard's settings. The identity of a session is never stored: it is read from the key on
 * every request, so a grant, a revocation or a removed key takes effect at once.
 */
export class DashboardService {
  private readonly linkLimiter: RateLimiter;
  private readonly loginLimiter: RateLimiter;
  private readonly now: () => number;

  constructor(private readonly deps: DashboardServiceDeps) {
    this.now = deps.now ?? Date.now;
    this.linkLimiter = new RateLimiter(LINKS_PER_KEY_PER_MINUTE, 60_000, 10_000, this.now);
    this.loginLimiter = new RateLimiter(FAILED_LOGINS_PER_ADDRESS_PER_MINUTE, 60_000, 10_000, this.now);
  }

  settings(): DashboardSettings {
    const g = this.deps.settings;
    const ttl = Number(g.get(SETTING.ttl));
    return {
      host: g.get(SETTING.host) ?? `paas.${this.deps.globalDomain()}`,
      enabled: g.get(SETTING.enabled) !== 'off',
      sessionTtlMs: Number.isInteger(ttl) && ttl > 0 ? ttl : DEFAULT_SESSION_TTL_MS,
    };
  }

  /** `dashboard:set NAME VALUE`; returns the line to print. */
  async set(name: string, value: string): Promise<string> {
    const g = this.deps.settings;
    if (name === 'host') {
      const host = normalizeHostArg(value);
      const owner = this.deps.hostOwner(host);
      if (owner !== null) throw DashboardErrors.hostTaken(`${host} already routes to app '${owner}'; pick another host`);
      g.set(SETTING.host, host);
      await this.deps.applyRoute();
      return `Dashboard host set to ${host}`;
    }
    if (name === 'enabled') {
      if (value !== 'on' && value !== 'off') throw DashboardErrors.usage(`enabled takes on or off, got '${value}'`);
      g.set(SETTING.enabled, value);
      await this.deps.applyRoute();
      return value === 'on' ? `Dashboard on at https://${this.settings().host}` : 'Dashboard off';
    }
    if (name === 'session-ttl') {
      const ms = parseDurationMs(value, DEFAULT_SESSION_TTL_MS);
      if (ms === null || ms < MIN_SESSION_TTL_MS) {
        throw DashboardErrors.usage(`session-ttl takes a duration from 10s to 12h (e.g. 30m, 2h), got '${value}'`);
      }
      g.set(SETTING.ttl, String(ms));
      return `Dashboard sessions now last ${value} (sessions already open end sooner if they would outlive it)`;
    }
    throw DashboardErrors.usage(`unknown dashboard setting '${name}' (use host, enabled or session-ttl)`);
  }

  /** A one-time link for the identity's key, landing on `path` after login. */
  loginLink(identity: Identity, path = '/'): string {
    const next = checkNextPath(path);
    if (next === null) throw DashboardErrors.usage(`'${path.slice(0, 100)}' is not a dashboard path (e.g. / or /apps/myapp)`);
    // `paas admin` runs as the host's admin, which has no SSH key a session could follow
    const key = identity === HOST_ADMIN ? undefined : this.deps.keys.byName(identity.keyName);
    if (key === undefined) throw DashboardErrors.noKey('dashboard:login needs an SSH key: run it over ssh, not with paas admin');
    const s = this.settings();
    if (!s.enabled) throw DashboardErrors.disabled('the dashboard is off (an admin can turn it on: dashboard:set enabled on)');
    if (!this.linkLimiter.allow(identity.keyName)) throw DashboardErrors.rateLimited('too many login links for this key; wait a minute');
    const token = newSecret();
    const now = this.now();
    this.deps.logins.prune(now);
    this.deps.logins.add(hashSecret(token), key.id, next, now + (this.deps.loginTtlMs ?? DEFAULT_LOGIN_TTL_MS));
    const httpsPort = this.deps.httpsPort();
    const port = httpsPort === 443 ? '' : `:${httpsPort}`;
    return `https://${s.host}${port}/login/${token}?next=${encodeURIComponent(next)}`;
  }

  /**
   * Opens a session with a login link's token (once: the link is gone after this call, used or not).
   * Null when the token is unknown, used or expired. Throws rateLimited once the address failed too often this minute.
   */
  login(token: string, client: string, userAgent: string): { secret: string; next: string; id: string } | null {
    if (this.loginLimiter.blocked(client))
      throw DashboardErrors.rateLimited('too many failed login attempts from this address; wait a minute');
    const now = this.now();
    const link = looksLikeSecret(token) ? this.deps.logins.take(hashSecret(token)) : undefined;
    if (link === undefined || link.expires_at <= now) {
      this.loginLimiter.allow(client);
      return null;
    }
    const secret = newSecret();
    const id = newSessionId();
    this.deps.sessions.prune(now);
    this.deps.sessions.add({
      id,
      secretHash: hashSecret(secret),
      keyId: link.key_id,
      csrf: newSecret(),
      client: client.slice(0, 64),
      userAgent: userAgent.slice(0, 200),
      createdAt: now,
      expiresAt: now + this.settings().sessionTtlMs,
    });
    return { secret, next: checkNextPath(link.next) ?? '/', id };
  }

  /** The live session of a cookie value and its key's identity now; null when there is none any more. */
  authenticate(secret: string | undefined): AuthenticatedSession | null {
    if (secret === undefined || !looksLikeSecret(secret)) return null;
    const row = this.deps.sessions.bySecret(hashSecret(secret));
    if (row === undefined) return null;
    const now = this.now();
    const expiresAt = this.expiryOf(row);
    if (expiresAt <= now) {
      this.deps.sessions.remove([row.id]);
      return null;
    }
    const identity = this.deps.identify(row.fingerprint);
    if (identity === null || identity.keyName !== row.key_name) return null;
    // one write a minute at most per session
    if (now - row.last_seen > 60_000) this.deps.sessions.touch(row.id, now);
    return { id: row.id, keyName: row.key_name, fingerprint: row.fingerprint, csrf: row.csrf, expiresAt, identity };
  }

  /** An admin sees every session, a developer its own. */
  sessions(identity: Identity): DashboardSessionInfo[] {
    const now = this.now();
    this.deps.sessions.prune(now);
    return this.rowsOf(identity)
      .filter((r) => this.expiryOf(r) > now)
      .map((r) => ({
        id: r.id,
        key: r.key_name,
        client: r.client,
        userAgent: r.user_agent,
        createdAt: new Date(r.created_at).toISOString(),
        expiresAt: new Date(this.expiryOf(r)).toISOString(),
        lastSeen: new Date(r.last_seen).toISOString(),
      }));
  }

  /** Ends one session (`id`) or all those the identity may end (`--all`); returns the ids ended. */
  revoke(identity: Identity, target: { id: string } | { all: true }): string[] {
    const own = this.rowsOf(identity);
    let ids: string[];
    if ('all' in target) ids = own.map((r) => r.id);
    else {
      if (!/^[0-9a-f]{12}$/.test(target.id))
        throw DashboardErrors.usage(`'${target.id.slice(0, 40)}' is not a session id (see dashboard:sessions)`);
      ids = own.some((r) => r.id === target.id) ? [target.id] : [];
      if (ids.length === 0) throw DashboardErrors.noSession(`no dashboard session '${target.id}' (see dashboard:sessions)`);
    }
    const ended = this.deps.sessions.remove(ids);
    if (ended.length > 0) this.deps.onEnded(ended);
    return ended;
  }

  private rowsOf(identity: Identity): DashboardSessionRow[] {
    if (identity.role === 'admin') return this.deps.sessions.list();
    const key = this.deps.keys.byName(identity.keyName);
    return key === undefined ? [] : this.deps.sessions.list(key.id);
  }

  /** A lowered session-ttl applies to open sessions too. */
  private expiryOf(row: Pick<DashboardSessionRow, 'created_at' | 'expires_at'>): number {
    return Math.min(row.expires_at, row.created_at + this.settings().sessionTtlMs);
  }
}

function normalizeHostArg(value: string): string {
  try {
    return normalizeDomain(value);
  } catch {
    throw DashboardErrors.usage(`'${value.slice(0, 100)}' is not a valid host name (e.g. paas.example.com)`);
  }
}

/** A local dashboard path (`/`, `/apps/x`, `/host`), or null: never `//evil`, a scheme, a backslash or a control character. */
export function checkNextPath(path: string): string | null {
  if (path.length > 200 || !path.startsWith('/') || path.startsWith('//')) return null;
  if (!/^\/[A-Za-z0-9._~!$&'()*+,;=:@%/?-]*$/.test(path)) return null;
  return path;
}
