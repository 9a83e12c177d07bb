import { errorFactory } from '../errors/app-error.js';

/** Error catalog of the web dashboard (dashboard:* commands and the dashboard's HTTP API). */
export const DashboardErrors = {
  /** a bad argument to a dashboard:* command (setting name, host, duration, on/off, session id, path) */
  usage: errorFactory('PAAS_ERR_DASHBOARD_USAGE', 2),
  /** dashboard:login from `paas admin` on the host: a session belongs to an SSH key */
  noKey: errorFactory('PAAS_ERR_DASHBOARD_NO_KEY', 1),
  /** dashboard:login while the dashboard is turned off (dashboard:set enabled off) */
  disabled: errorFactory('PAAS_ERR_DASHBOARD_DISABLED', 1),
  /** too many login links for one key, or too many /login attempts from one address */
  rateLimited: errorFactory('PAAS_ERR_DASHBOARD_RATE_LIMITED', 1, 429),
  /** dashboard:revoke of a session id that does not exist (or is not the key's own) */
  noSession: errorFactory('PAAS_ERR_DASHBOARD_NO_SESSION', 1, 404),
  /** dashboard:set host to a host an app already answers on */
  hostTaken: errorFactory('PAAS_ERR_DASHBOARD_HOST_TAKEN', 1),
} as const;
