/**
 * Every PAAS_* variable paas reads from the environment besides the server flags
 * (server-config.ts) and the images (image-config.ts), read here and nowhere else.
 */

/** A whole number from the environment, else `fallback`. */
function envInt<T extends number | undefined>(env: NodeJS.ProcessEnv, name: string, fallback: T): number | T {
  const v = env[name];
  return v && /^\d+$/.test(v) ? Number(v) : fallback;
}

/** The log level of `paas admin` and of a logger made without one (`PAAS_LOG_LEVEL`). */
export function envLogLevel(fallback: string, env: NodeJS.ProcessEnv = process.env): string {
  return env.PAAS_LOG_LEVEL ?? fallback;
}

/** What the control plane reads from the environment. */
export interface ControlPlaneKnobs {
  /** the address pool app networks are carved from (`PAAS_NETWORK_POOL`, a CIDR); absent: the runtime's default */
  networkPool: string | undefined;
  /** extra labels on everything paas creates (`PAAS_CONTAINER_LABELS=k=v,k2=v2`) */
  containerLabels: Record<string, string>;
  /** an add-on kind's image override (`PAAS_IMAGE_POSTGRES`, `PAAS_IMAGE_REDIS`): the kind names its variable */
  addonImage(envName: string): string | undefined;
  /** the environment a `pack` build runs with (PATH, DOCKER_HOST) */
  processEnv: NodeJS.ProcessEnv;
  /** `ADDR:PORT` paas's Swarm registry listens on (`PAAS_REGISTRY_LISTEN`); absent: the advertise address, port 5000 */
  registryListen: string | undefined;
  /** lines a log drain holds while its receiver is slow or away (`PAAS_LOG_DRAIN_BUFFER`, 10,000) */
  logDrainBuffer: number;
  /** how long a drain's connection or HTTP request may take (`PAAS_LOG_DRAIN_TIMEOUT_MS`, 10 s) */
  logDrainTimeoutMs: number;

  // ---- test-only knobs: shorter waits so the test suites finish; never set on a real host ----
  /** how long a build waits for free memory above the floor (`PAAS_BUILD_MEMORY_WAIT_MS`, 60 s) */
  buildMemoryWaitMs: number;
  /** ACME: request timeout, order poll interval, the first retry after a failure, the spacing of forced orders */
  acmeTimeoutMs: number;
  acmePollMs: number;
  acmeRetryBaseMs: number;
  acmeForceSpacingMs: number | undefined;
  /** the renewal check's interval and its first run after start */
  acmeRenewIntervalMs: number;
  acmeRenewFirstMs: number;
  /** how long a dashboard login link stays valid (`PAAS_DASHBOARD_LOGIN_TTL_MS`, 5 min) and how often the chart history samples (`PAAS_DASHBOARD_SAMPLE_MS`, 60 s) */
  dashboardLoginTtlMs: number;
  dashboardSampleMs: number;
}

export function controlPlaneKnobs(env: NodeJS.ProcessEnv = process.env): ControlPlaneKnobs {
  const labels: Record<string, string> = {};
  for (const pair of (env.PAAS_CONTAINER_LABELS ?? '').split(',').filter(Boolean)) {
    const [k, v = ''] = pair.split('=');
    labels[k!] = v;
  }
  return {
    networkPool: env.PAAS_NETWORK_POOL || undefined,
    containerLabels: labels,
    addonImage: (name) => env[name] || undefined,
    processEnv: env,
    registryListen: env.PAAS_REGISTRY_LISTEN || undefined,
    logDrainBuffer: envInt(env, 'PAAS_LOG_DRAIN_BUFFER', 10_000) || 1,
    logDrainTimeoutMs: envInt(env, 'PAAS_LOG_DRAIN_TIMEOUT_MS', 10_000) || 1000,
    // test-only knobs
    buildMemoryWaitMs: envInt(env, 'PAAS_BUILD_MEMORY_WAIT_MS', 60_000),
    acmeTimeoutMs: envInt(env, 'PAAS_ACME_TIMEOUT_MS', 30_000),
    acmePollMs: envInt(env, 'PAAS_ACME_POLL_MS', 1000),
    acmeRetryBaseMs: envInt(env, 'PAAS_ACME_RETRY_BASE_MS', 5 * 60_000),
    acmeForceSpacingMs: envInt(env, 'PAAS_ACME_FORCE_SPACING_MS', undefined),
    acmeRenewIntervalMs: envInt(env, 'PAAS_ACME_RENEW_INTERVAL_MS', 3_600_000),
    acmeRenewFirstMs: envInt(env, 'PAAS_ACME_RENEW_FIRST_MS', 60_000),
    dashboardLoginTtlMs: envInt(env, 'PAAS_DASHBOARD_LOGIN_TTL_MS', 5 * 60_000) || 1000,
    dashboardSampleMs: envInt(env, 'PAAS_DASHBOARD_SAMPLE_MS', 60_000) || 1000,
  };
}

/** What the proxy reads from the environment. */
export interface ProxyKnobs {
  /** the request body limit of services without their own (`PAAS_PROXY_BODY_LIMIT`, bytes) */
  bodyLimit: number | undefined;
  /** how long an upstream may take to answer (`PAAS_PROXY_UPSTREAM_TIMEOUT_MS`) */
  upstreamTimeoutMs: number | undefined;
  /** bench only: the same build without the edge limits (`PAAS_PROXY_BENCH_NO_LIMITS=1`), to measure their cost */
  benchWithoutLimits: boolean;
  /** request metrics and the access log in the proxy workers (`PAAS_PROXY_METRICS=off` turns them off; bench A/B) */
  metrics: boolean;
}

export function proxyKnobs(env: NodeJS.ProcessEnv = process.env): ProxyKnobs {
  return {
    bodyLimit: envInt(env, 'PAAS_PROXY_BODY_LIMIT', undefined),
    upstreamTimeoutMs: envInt(env, 'PAAS_PROXY_UPSTREAM_TIMEOUT_MS', undefined),
    benchWithoutLimits: env.PAAS_PROXY_BENCH_NO_LIMITS === '1',
    metrics: env.PAAS_PROXY_METRICS !== 'off' && env.PAAS_PROXY_METRICS !== '0',
  };
}

/** How notifications are delivered; the PAAS_NOTIFY_* variables are test-only (shorter waits). */
export interface NotificationKnobs {
  /** attempts per delivery (`PAAS_NOTIFY_ATTEMPTS`, 5) */
  attempts: number;
  /** the first retry's wait, doubling up to a minute (`PAAS_NOTIFY_RETRY_BASE_MS`, 2 s) */
  retryBaseMs: number;
  /** connecting (TCP and TLS) and the whole answer (`PAAS_NOTIFY_CONNECT_TIMEOUT_MS` 5 s, `PAAS_NOTIFY_TIMEOUT_MS` 10 s) */
  connectTimeoutMs: number;
  responseTimeoutMs: number;
}

export function notificationKnobs(env: NodeJS.ProcessEnv = process.env): NotificationKnobs {
  return {
    attempts: Math.max(1, envInt(env, 'PAAS_NOTIFY_ATTEMPTS', 5)),
    retryBaseMs: envInt(env, 'PAAS_NOTIFY_RETRY_BASE_MS', 2000),
    connectTimeoutMs: envInt(env, 'PAAS_NOTIFY_CONNECT_TIMEOUT_MS', 5000),
    responseTimeoutMs: envInt(env, 'PAAS_NOTIFY_TIMEOUT_MS', 10_000),
  };
}
