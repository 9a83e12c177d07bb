import { errorFactory } from '../errors/app-error.js';

/** Error catalog of the metrics endpoint and ps:top (metrics:set, metrics:report, ps:top). */
export const MetricsErrors = {
  /** a listen address that is neither ADDR:PORT, a unix socket path nor `off`, or a bad setting name */
  usage: errorFactory('PAAS_ERR_METRICS_USAGE', 2),
  /** the endpoint could not listen where asked (port taken, no such address, unwritable socket dir) */
  listenFailed: errorFactory('PAAS_ERR_METRICS_LISTEN_FAILED', 1),
} as const;
