import { errorFactory } from '../errors/app-error.js';

/** Every error starting the daemon throws. */
export const ServerErrors = {
  /** another live daemon holds the pid file of this data dir */
  alreadyRunning: errorFactory('PAAS_ERR_SERVER_RUNNING'),
  /** the proxy process the daemon starts did not come up */
  proxyStart: errorFactory('PAAS_ERR_PROXY_START'),
  /** the proxy's system user (--proxy-user) was missing and useradd could not create it */
  proxyUser: errorFactory('PAAS_ERR_PROXY_USER_CREATE'),
  /** a parent of the data dir (or of paas's code) does not let the proxy user through: it could not work once it drops root */
  proxyUnreachable: errorFactory('PAAS_ERR_PROXY_USER_UNREACHABLE'),
} as const;
