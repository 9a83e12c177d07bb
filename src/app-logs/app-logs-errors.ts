import { errorFactory } from '../errors/app-error.js';

/** Error catalog of the kept app logs (logs --since/--release, logs:set, logs:report). */
export const AppLogsErrors = {
  /** a bad size, duration, release, drain URL or setting name: nothing was changed */
  usage: errorFactory('PAAS_ERR_LOGS_USAGE', 2),
  /** a developer key may not point a drain at this host's loopback or a link-local address (cloud metadata) */
  drainRefused: errorFactory('PAAS_ERR_LOGS_DRAIN_REFUSED'),
} as const;
