import { errorFactory } from '../errors/app-error.js';

/** Every error code the proxy raises, in one place. */
export const ProxyErrorCode = {
  INVALID_SPEC: 'PAAS_ERR_PROXY_INVALID_SPEC',
  UNHEALTHY: 'PAAS_ERR_PROXY_UNHEALTHY',
  HOST_CONFLICT: 'PAAS_ERR_PROXY_HOST_CONFLICT',
  SERVICE_NOT_FOUND: 'PAAS_ERR_PROXY_SERVICE_NOT_FOUND',
  NO_ROUTE: 'PAAS_ERR_PROXY_NO_ROUTE',
  UNREACHABLE: 'PAAS_ERR_PROXY_UNREACHABLE',
  STATE_CORRUPT: 'PAAS_ERR_PROXY_STATE_CORRUPT',
  ALREADY_RUNNING: 'PAAS_ERR_PROXY_ALREADY_RUNNING',
  CERT_FAILED: 'PAAS_ERR_PROXY_CERT_FAILED',
  WORKER_FAILED: 'PAAS_ERR_PROXY_WORKER_FAILED',
  NOT_FOUND: 'PAAS_ERR_PROXY_NOT_FOUND',
  INTERNAL: 'PAAS_ERR_PROXY_INTERNAL',
} as const;

export const proxyErrors = {
  invalidSpec: errorFactory(ProxyErrorCode.INVALID_SPEC, 1, 400),
  unhealthy: errorFactory(ProxyErrorCode.UNHEALTHY, 1, 422),
  hostConflict: errorFactory(ProxyErrorCode.HOST_CONFLICT, 1, 409),
  serviceNotFound: errorFactory(ProxyErrorCode.SERVICE_NOT_FOUND, 1, 404),
  noRoute: errorFactory(ProxyErrorCode.NO_ROUTE, 1, 503),
  unreachable: errorFactory(ProxyErrorCode.UNREACHABLE, 1, 503),
  stateCorrupt: errorFactory(ProxyErrorCode.STATE_CORRUPT, 1, 500),
  alreadyRunning: errorFactory(ProxyErrorCode.ALREADY_RUNNING, 1, 409),
  certFailed: errorFactory(ProxyErrorCode.CERT_FAILED, 1, 500),
  workerFailed: errorFactory(ProxyErrorCode.WORKER_FAILED, 1, 500),
  notFound: errorFactory(ProxyErrorCode.NOT_FOUND, 1, 404),
  internal: errorFactory(ProxyErrorCode.INTERNAL, 1, 500),
};
