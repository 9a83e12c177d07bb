import { type ErrorFactory, errorFactory } from '../errors/app-error.js';

/** Every error the proxy raises, in one place; `status` is what the control API answers with. */
export const ProxyErrors = {
  invalidSpec: errorFactory('PAAS_ERR_PROXY_INVALID_SPEC', 1, 400),
  unhealthy: errorFactory('PAAS_ERR_PROXY_UNHEALTHY', 1, 422),
  hostConflict: errorFactory('PAAS_ERR_PROXY_HOST_CONFLICT', 1, 409),
  serviceNotFound: errorFactory('PAAS_ERR_PROXY_SERVICE_NOT_FOUND', 1, 404),
  noRoute: errorFactory('PAAS_ERR_PROXY_NO_ROUTE', 1, 503),
  unreachable: errorFactory('PAAS_ERR_PROXY_UNREACHABLE', 1, 503),
  stateCorrupt: errorFactory('PAAS_ERR_PROXY_STATE_CORRUPT', 1, 500),
  alreadyRunning: errorFactory('PAAS_ERR_PROXY_ALREADY_RUNNING', 1, 409),
  certFailed: errorFactory('PAAS_ERR_PROXY_CERT_FAILED', 1, 500),
  workerFailed: errorFactory('PAAS_ERR_PROXY_WORKER_FAILED', 1, 500),
  notFound: errorFactory('PAAS_ERR_PROXY_NOT_FOUND', 1, 404),
  internal: errorFactory('PAAS_ERR_PROXY_INTERNAL', 1, 500),
  /** the proxy gave its sockets to a newer one (upgrade); the client retries */
  handedOver: errorFactory('PAAS_ERR_PROXY_HANDED_OVER', 1, 503),
  /** the newer proxy did not take the sockets over; the running one keeps serving */
  handoverFailed: errorFactory('PAAS_ERR_PROXY_HANDOVER_FAILED', 1, 500),
  /** the system user the proxy runs as (--proxy-user) does not exist or is privileged */
  userMissing: errorFactory('PAAS_ERR_PROXY_USER_MISSING', 1, 500),
  /** giving up root after binding failed, or left the proxy unable to write its folders */
  dropFailed: errorFactory('PAAS_ERR_PROXY_DROP_FAILED', 1, 500),
} as const;

/**
 * The catalog entry of a code the control API answered with, so the control plane rebuilds the
 * proxy's error; a code this catalog does not know (a proxy of another version) is `internal`.
 */
export function proxyErrorOf(code: string | undefined): ErrorFactory {
  return Object.values(ProxyErrors).find((f) => f.code === code) ?? ProxyErrors.internal;
}
