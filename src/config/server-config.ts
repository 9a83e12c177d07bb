import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { TrustedProxies } from '../util/trusted-proxies.js';
import { ConfigErrors } from './config-errors.js';
import { parseDurationMs } from './duration.js';
import { DEFAULT_METRICS_LISTEN, type MetricsListen, parseMetricsListen } from './metrics-listen.js';

/** Everything `paas server` needs to know, validated once at start. */
export interface ServerConfig {
  dataDir: string;
  sshPort: number;
  httpPort: number;
  httpsPort: number;
  listen: string;
  domain: string;
  dockerHost: string | undefined;
  /** proxy worker processes; 0 means one per core */
  proxyWorkers: number;
  logLevel: string;
  /** the system user the proxy runs as once its ports are bound (when paas runs as root) */
  proxyUser: string;
  /** HTTPS: the ACME directory (Let's Encrypt production by default), an extra CA (PEM) for its TLS, the account email */
  acmeDirectory: string;
  acmeCaPem: string | undefined;
  acmeEmail: string | undefined;
  /** client connection limits and the upstream queue deadline (README "Proxy limits") */
  proxyLimits: ProxyLimitsConfig;
  /** CIDRs whose forwarding headers the proxy believes (--trusted-proxies) */
  trustedProxies: string[];
  /** where /metrics is served (--metrics-listen; metrics:set listen overrides it) */
  metricsListen: MetricsListen;
}

export interface ProxyLimitsConfig {
  idleTimeoutMs: number;
  headerTimeoutMs: number;
  maxConnections: number;
  maxConnectionsPerIp: number;
  upstreamWaitMs: number;
}

/** The proxy limit flags: name -> field, env, default, and whether it is a duration or a count. */
const LIMIT_FLAGS = {
  'proxy-idle-timeout': { key: 'idleTimeoutMs', env: 'PAAS_PROXY_IDLE_TIMEOUT', default: '60s', kind: 'duration' },
  'proxy-header-timeout': { key: 'headerTimeoutMs', env: 'PAAS_PROXY_HEADER_TIMEOUT', default: '30s', kind: 'duration' },
  'proxy-max-connections': { key: 'maxConnections', env: 'PAAS_PROXY_MAX_CONNECTIONS', default: '10000', kind: 'count' },
  'proxy-max-connections-per-ip': { key: 'maxConnectionsPerIp', env: 'PAAS_PROXY_MAX_CONNECTIONS_PER_IP', default: '256', kind: 'count' },
  'proxy-upstream-wait': { key: 'upstreamWaitMs', env: 'PAAS_PROXY_UPSTREAM_WAIT', default: '10s', kind: 'duration' },
} as const satisfies Record<string, { key: keyof ProxyLimitsConfig; env: string; default: string; kind: 'duration' | 'count' }>;

/** The flags `paas server` hands on to the proxy process it starts, as argv. */
export function proxyLimitArgs(config: ServerConfig): string[] {
  const out: string[] = [];
  for (const [flag, f] of Object.entries(LIMIT_FLAGS)) {
    const v = config.proxyLimits[f.key];
    out.push(`--${flag}`, f.kind === 'duration' ? `${v}ms` : String(v));
  }
  if (config.trustedProxies.length > 0) out.push('--trusted-proxies', config.trustedProxies.join(','));
  return out;
}

function parseLimits(get: (name: string) => string | undefined): ProxyLimitsConfig {
  const out = {} as Record<keyof ProxyLimitsConfig, number>;
  for (const [flag, f] of Object.entries(LIMIT_FLAGS)) {
    const raw = get(flag) ?? f.default;
    if (f.kind === 'duration') {
      const ms = parseDurationMs(raw);
      if (ms === null || ms < 100)
        throw ConfigErrors.invalid(`--${flag} must be a duration from 100ms to 24h (e.g. 60s, 500ms, 2m), got '${raw}'`);
      out[f.key] = ms;
    } else {
      if (!/^\d{1,7}$/.test(raw) || Number(raw) < 1)
        throw ConfigErrors.invalid(`--${flag} must be a whole number from 1 to 9999999, got '${raw}'`);
      out[f.key] = Number(raw);
    }
  }
  return out;
}

function parseTrusted(raw: string | undefined): string[] {
  try {
    return TrustedProxies.parse(raw).cidrs.slice();
  } catch (err) {
    throw ConfigErrors.invalid(`--trusted-proxies: ${(err as Error).message} (expected CIDR,... e.g. 173.245.48.0/20,10.0.0.1)`);
  }
}

function metricsListenConfig(raw: string | undefined): MetricsListen {
  const parsed = parseMetricsListen(raw ?? DEFAULT_METRICS_LISTEN);
  if (typeof parsed === 'string') throw ConfigErrors.invalid(`--metrics-listen: ${parsed}`);
  return parsed;
}

const LETSENCRYPT_PRODUCTION = 'https://acme-v02.api.letsencrypt.org/directory';

const FLAGS: Record<string, { env: string; key: keyof ServerConfig }> = {
  'data-dir': { env: 'PAAS_DATA_DIR', key: 'dataDir' },
  'ssh-port': { env: 'PAAS_SSH_PORT', key: 'sshPort' },
  'http-port': { env: 'PAAS_HTTP_PORT', key: 'httpPort' },
  'https-port': { env: 'PAAS_HTTPS_PORT', key: 'httpsPort' },
  listen: { env: 'PAAS_LISTEN', key: 'listen' },
  domain: { env: 'PAAS_DOMAIN', key: 'domain' },
  'proxy-workers': { env: 'PAAS_PROXY_WORKERS', key: 'proxyWorkers' },
  'log-level': { env: 'PAAS_LOG_LEVEL', key: 'logLevel' },
  'proxy-user': { env: 'PAAS_PROXY_USER', key: 'proxyUser' },
  'trusted-proxies': { env: 'PAAS_TRUSTED_PROXIES', key: 'trustedProxies' },
  'metrics-listen': { env: 'PAAS_METRICS_LISTEN', key: 'metricsListen' },
  ...Object.fromEntries(Object.entries(LIMIT_FLAGS).map(([flag, f]) => [flag, { env: f.env, key: 'proxyLimits' as const }])),
  'acme-directory': { env: 'PAAS_ACME_DIRECTORY', key: 'acmeDirectory' },
  'acme-ca': { env: 'PAAS_ACME_CA', key: 'acmeCaPem' },
  'acme-email': { env: 'PAAS_ACME_EMAIL', key: 'acmeEmail' },
};

/** --acme-directory / --acme-ca / --acme-email, checked: a bad one fails the start with one line. */
function acmeConfig(get: (name: string) => string | undefined): Pick<ServerConfig, 'acmeDirectory' | 'acmeCaPem' | 'acmeEmail'> {
  const acmeDirectory = get('acme-directory') ?? LETSENCRYPT_PRODUCTION;
  let protocol = '';
  try {
    protocol = new URL(acmeDirectory).protocol;
  } catch {
    // reported below
  }
  if (protocol !== 'https:' && protocol !== 'http:')
    throw ConfigErrors.invalid(`--acme-directory must be an http(s) URL, got '${acmeDirectory}'`);
  const caFile = get('acme-ca');
  let acmeCaPem: string | undefined;
  if (caFile !== undefined) {
    try {
      acmeCaPem = fs.readFileSync(caFile, 'utf8');
    } catch (err) {
      throw ConfigErrors.invalid(`--acme-ca ${caFile} cannot be read: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
    }
    if (!acmeCaPem.includes('-----BEGIN CERTIFICATE-----')) throw ConfigErrors.invalid(`--acme-ca ${caFile} holds no PEM certificate`);
  }
  const acmeEmail = get('acme-email');
  if (acmeEmail !== undefined && !/^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(acmeEmail))
    throw ConfigErrors.invalid(`--acme-email '${acmeEmail}' is not an email address`);
  return { acmeDirectory, acmeCaPem, acmeEmail };
}

function parsePort(name: string, raw: string): number {
  if (!/^\d+$/.test(raw)) throw ConfigErrors.invalid(`--${name} must be a port number 0-65535, got '${raw}'`);
  const n = Number(raw);
  if (n > 65535) throw ConfigErrors.invalid(`--${name} must be a port number 0-65535, got '${raw}'`);
  return n;
}

/**
 * Reads `--flag value` / `--flag=value` from argv, falling back to the environment, then defaults.
 * Unknown flags are an error: a typo must not silently start a server on port 80.
 */
export function parseServerConfig(argv: string[], env: NodeJS.ProcessEnv = process.env): ServerConfig {
  const raw: Record<string, string> = {};
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (!arg.startsWith('--')) throw ConfigErrors.invalid(`unexpected argument '${arg}'`);
    const eq = arg.indexOf('=');
    const name = eq === -1 ? arg.slice(2) : arg.slice(2, eq);
    if (!FLAGS[name])
      throw ConfigErrors.invalid(
        `unknown flag --${name} (known: ${Object.keys(FLAGS)
          .map((f) => `--${f}`)
          .join(', ')})`,
      );
    const value: string | undefined = eq === -1 ? argv[++i] : arg.slice(eq + 1);
    if (value === undefined) throw ConfigErrors.invalid(`--${name} needs a value`);
    raw[name] = value;
  }
  const get = (name: string): string | undefined => raw[name] ?? env[FLAGS[name].env] ?? undefined;
  const dataDir = path.resolve(get('data-dir') ?? '/var/lib/paas');
  const workers = get('proxy-workers');
  const proxyWorkers = workers === undefined ? 0 : Number(workers);
  if (!Number.isInteger(proxyWorkers) || proxyWorkers < 0 || proxyWorkers > 64) {
    throw ConfigErrors.invalid(`--proxy-workers must be 0 (one per core) to 64, got '${workers}'`);
  }
  const domain = (get('domain') ?? os.hostname()).toLowerCase();
  if (!/^[a-z0-9.-]+$/.test(domain)) throw ConfigErrors.invalid(`--domain '${domain}' is not a valid host name`);
  const proxyUser = get('proxy-user') ?? 'paas-proxy';
  if (!/^[a-z_][a-z0-9_-]{0,31}$/.test(proxyUser) || proxyUser === 'root') {
    throw ConfigErrors.invalid(`--proxy-user must be a system user name other than root (a-z, 0-9, '_', '-'), got '${proxyUser}'`);
  }
  return {
    dataDir,
    sshPort: parsePort('ssh-port', get('ssh-port') ?? '2222'),
    httpPort: parsePort('http-port', get('http-port') ?? '80'),
    httpsPort: parsePort('https-port', get('https-port') ?? '443'),
    listen: get('listen') ?? '0.0.0.0',
    domain,
    dockerHost: env.DOCKER_HOST,
    proxyWorkers,
    logLevel: get('log-level') ?? 'info',
    proxyUser,
    proxyLimits: parseLimits(get),
    trustedProxies: parseTrusted(get('trusted-proxies')),
    metricsListen: metricsListenConfig(get('metrics-listen')),
    ...acmeConfig(get),
  };
}

/** Paths inside the data dir, in one place. */
export function dataPaths(dataDir: string) {
  return {
    db: path.join(dataDir, 'paas.db'),
    repos: path.join(dataDir, 'repos'),
    hooks: path.join(dataDir, 'hooks'),
    keys: path.join(dataDir, 'keys'),
    hostKey: path.join(dataDir, 'keys', 'ssh_host_ed25519_key'),
    run: path.join(dataDir, 'run'),
    portsFile: path.join(dataDir, 'run', 'ports.json'),
    controlPid: path.join(dataDir, 'run', 'control.pid'),
    proxyPid: path.join(dataDir, 'run', 'proxy.pid'),
    proxySocket: path.join(dataDir, 'run', 'proxy.sock'),
    adminSocket: path.join(dataDir, 'run', 'admin.sock'),
    proxyState: path.join(dataDir, 'proxy', 'routes.json'),
    builds: path.join(dataDir, 'builds'),
    storage: path.join(dataDir, 'storage'),
    logs: path.join(dataDir, 'logs'),
    /** TLS certificates: the self-signed default and the proxy's tls.json (the proxy user's folder) */
    certs: path.join(dataDir, 'certs'),
    /** ACME account keys, one per directory (root only, mode 600) */
    acme: path.join(dataDir, 'acme'),
    /** the deploy output kept with each release */
    releaseLogs: path.join(dataDir, 'logs', 'releases'),
    /** an app's own storage dir: relative `storage:mount` dirs live here */
    appStorage: (app: string) => path.join(path.resolve(dataDir), 'storage', app),
    releaseLogDir: (app: string) => path.join(dataDir, 'logs', 'releases', app),
    /** an add-on's verified backups: `<data-dir>/addons/<type>/<name>/backups` */
    addonBackups: (type: string, name: string) => path.join(path.resolve(dataDir), 'addons', type, name, 'backups'),
    releaseLog: (app: string, version: number) => path.join(dataDir, 'logs', 'releases', app, `v${version}.log`),
  };
}
export type DataPaths = ReturnType<typeof dataPaths>;
