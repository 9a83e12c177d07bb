import { errorFactory } from '../errors/app-error.js';

/** Every error starting the daemon throws. */
export const ServerErrors = {
  /** another live daemon holds the pid file of this data dir */
  alreadyRunning: errorFactory('PAAS_ERR_SERVER_RUNNING'),
  /** the proxy process the daemon starts did not come up */
  proxyStart: errorFactory('PAAS_ERR_PROXY_START'),
} as const;
