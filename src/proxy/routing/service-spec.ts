import { ProxyErrors } from '../proxy-errors.js';

export interface HealthCheckSpec {
  /** HTTP path probed with GET; null probes a TCP connect */
  path: string | null;
  intervalMs: number;
  timeoutMs: number;
}

/** What the control plane asks for one service: where it is reachable and which targets serve it. */
export interface ServiceSpec {
  hosts: string[];
  /** "ip:port" addresses */
  targets: string[];
  healthCheck: HealthCheckSpec;
  deployTimeoutMs: number;
  drainTimeoutMs: number;
  /** max request body in bytes (proxy:set max-body-size); absent: the proxy's default */
  maxBodyBytes?: number;
  /** traffic controls; not part of a deploy's spec, kept across deploys (see ProxyController) */
  controls?: TrafficControls;
}

/**
 * What the control plane sends for one service (PUT /services/:name), before parseServiceSpec
 * checks it and fills in what is omitted: a health check every 1 s with a 5 s timeout and a 30 s
 * drain, as kamal-proxy does, and a 60 s deploy timeout (kamal-proxy's is 30 s: a paas deploy
 * waits for its own health gate first, so the proxy's is only a backstop).
 */
export interface ServiceSpecInput {
  hosts: string[];
  /** "ip:port" addresses */
  targets: string[];
  healthCheck?: { path: string | null; intervalMs?: number; timeoutMs?: number };
  deployTimeoutMs?: number;
  drainTimeoutMs?: number;
  /** proxy:set max-body-size; absent: the proxy's default */
  maxBodyBytes?: number;
  /** ps:maintenance / ps:pause as stored, used by the proxy when it creates the service anew */
  controls?: TrafficControls;
}

/** ps:maintenance and ps:pause as the proxy keeps them (persisted with the routes). */
export interface TrafficControls {
  /** the 503 page's message while in maintenance */
  maintenance?: string;
  /** epoch ms the pause ends at */
  pausedUntil?: number;
  /** only in a PUT /services/:name/controls body: sets the service's maxBodyBytes too */
  maxBodyBytes?: number;
}

const MAX_BODY_BYTES = 1024 ** 4;

const SERVICE_DEFAULTS = {
  intervalMs: 1000,
  timeoutMs: 5000,
  deployTimeoutMs: 60_000,
  drainTimeoutMs: 30_000,
} as const;

const NAME_RE = /^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,99}$/;
const HOST_RE = /^[a-z0-9*]([a-z0-9.-]{0,252})$/;
const TARGET_RE = /^(?:\[[0-9a-fA-F:.]+\]|[a-zA-Z0-9.-]+):(\d{1,5})$/;

/**
 * Lowercases a Host header value and strips its port and a trailing dot ("App.io.:8080" -> "app.io",
 * "[::1]:80" -> "[::1]"): the fully qualified "app.io." names the same host.
 */
export function normalizeHost(raw: string): string {
  let host = raw;
  if (host.charCodeAt(0) === 91 /* [ */) {
    const end = host.indexOf(']');
    if (end !== -1) host = host.slice(0, end + 1);
  } else {
    const colon = host.indexOf(':');
    if (colon !== -1) host = host.slice(0, colon);
    if (host.charCodeAt(host.length - 1) === 46 /* . */) host = host.slice(0, -1);
  }
  return host.toLowerCase();
}

export function assertServiceName(name: string): void {
  if (!NAME_RE.test(name)) throw ProxyErrors.invalidSpec(`service name '${name}' is invalid (letters, digits, '.', '_', '-'; max 100)`);
}

function positiveMs(value: unknown, field: string, fallback: number): number {
  if (value === undefined || value === null) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0 || value > 86_400_000) {
    throw ProxyErrors.invalidSpec(`${field} must be a number of milliseconds, got ${JSON.stringify(value)}`);
  }
  return Math.floor(value);
}

/** Validates a PUT /services/:name body (a ServiceSpecInput, as JSON) and fills in defaults. */
export function parseServiceSpec(body: unknown): ServiceSpec {
  if (typeof body !== 'object' || body === null) throw ProxyErrors.invalidSpec('service spec must be a JSON object');
  const b = body as Record<string, unknown>;
  if (!Array.isArray(b.hosts) || !b.hosts.every((h) => typeof h === 'string')) {
    throw ProxyErrors.invalidSpec('hosts must be an array of host names');
  }
  const hosts = [...new Set((b.hosts as string[]).map((h) => normalizeHost(h.trim())))];
  for (const h of hosts) if (!HOST_RE.test(h)) throw ProxyErrors.invalidSpec(`host '${h}' is not a valid host name`);
  if (!Array.isArray(b.targets) || !b.targets.every((t) => typeof t === 'string')) {
    throw ProxyErrors.invalidSpec('targets must be an array of "ip:port" strings');
  }
  const targets = [...new Set(b.targets as string[])];
  for (const t of targets) {
    const m = TARGET_RE.exec(t);
    if (!m || Number(m[1]) < 1 || Number(m[1]) > 65535) throw ProxyErrors.invalidSpec(`target '${t}' is not an "ip:port" address`);
  }
  const hc = (b.healthCheck ?? {}) as Record<string, unknown>;
  if (typeof hc !== 'object') throw ProxyErrors.invalidSpec('healthCheck must be an object');
  const path = hc.path === undefined || hc.path === null ? null : hc.path;
  if (path !== null && (typeof path !== 'string' || !path.startsWith('/'))) {
    throw ProxyErrors.invalidSpec(`healthCheck.path must start with '/' or be null, got ${JSON.stringify(path)}`);
  }
  return {
    hosts,
    targets,
    healthCheck: {
      path,
      intervalMs: Math.max(10, positiveMs(hc.intervalMs, 'healthCheck.intervalMs', SERVICE_DEFAULTS.intervalMs)),
      timeoutMs: Math.max(10, positiveMs(hc.timeoutMs, 'healthCheck.timeoutMs', SERVICE_DEFAULTS.timeoutMs)),
    },
    deployTimeoutMs: positiveMs(b.deployTimeoutMs, 'deployTimeoutMs', SERVICE_DEFAULTS.deployTimeoutMs),
    drainTimeoutMs: positiveMs(b.drainTimeoutMs, 'drainTimeoutMs', SERVICE_DEFAULTS.drainTimeoutMs),
    ...(b.maxBodyBytes === undefined || b.maxBodyBytes === null ? {} : { maxBodyBytes: parseBodyBytes(b.maxBodyBytes) }),
    ...(b.controls === undefined ? {} : { controls: parseControls(b.controls) }),
  };
}

function parseBodyBytes(v: unknown): number {
  if (!Number.isInteger(v) || (v as number) < 0 || (v as number) > MAX_BODY_BYTES) {
    throw ProxyErrors.invalidSpec(`maxBodyBytes must be a whole number of bytes up to 1 TiB, got ${JSON.stringify(v)}`);
  }
  return v as number;
}

/** Validates a traffic controls body (PUT /services/:name/controls, or as stored). */
export function parseControls(body: unknown): TrafficControls {
  if (typeof body !== 'object' || body === null) throw ProxyErrors.invalidSpec('controls must be a JSON object');
  const b = body as Record<string, unknown>;
  const out: TrafficControls = {};
  if (b.maintenance !== undefined && b.maintenance !== null) {
    if (typeof b.maintenance !== 'string' || b.maintenance.length > 2000)
      throw ProxyErrors.invalidSpec('maintenance must be a message of at most 2000 characters');
    out.maintenance = b.maintenance;
  }
  if (b.pausedUntil !== undefined && b.pausedUntil !== null) {
    if (!Number.isInteger(b.pausedUntil) || (b.pausedUntil as number) < 0)
      throw ProxyErrors.invalidSpec('pausedUntil must be epoch milliseconds');
    out.pausedUntil = b.pausedUntil as number;
  }
  if (b.maxBodyBytes !== undefined && b.maxBodyBytes !== null) out.maxBodyBytes = parseBodyBytes(b.maxBodyBytes);
  return out;
}
