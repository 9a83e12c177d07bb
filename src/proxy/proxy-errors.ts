import { AppError } from '../errors/app-error.js';

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

export type ProxyErrorCodeValue = (typeof ProxyErrorCode)[keyof typeof ProxyErrorCode];

const make =
  (code: ProxyErrorCodeValue, status: number) =>
  (message: string, cause?: unknown): AppError =>
    new AppError(code, message, { cause, status, exitCode: 1 });

export const proxyErrors = {
  invalidSpec: make(ProxyErrorCode.INVALID_SPEC, 400),
  unhealthy: make(ProxyErrorCode.UNHEALTHY, 422),
  hostConflict: make(ProxyErrorCode.HOST_CONFLICT, 409),
  serviceNotFound: make(ProxyErrorCode.SERVICE_NOT_FOUND, 404),
  noRoute: make(ProxyErrorCode.NO_ROUTE, 503),
  unreachable: make(ProxyErrorCode.UNREACHABLE, 503),
  stateCorrupt: make(ProxyErrorCode.STATE_CORRUPT, 500),
  alreadyRunning: make(ProxyErrorCode.ALREADY_RUNNING, 409),
  certFailed: make(ProxyErrorCode.CERT_FAILED, 500),
  workerFailed: make(ProxyErrorCode.WORKER_FAILED, 500),
  notFound: make(ProxyErrorCode.NOT_FOUND, 404),
  internal: make(ProxyErrorCode.INTERNAL, 500),
};
