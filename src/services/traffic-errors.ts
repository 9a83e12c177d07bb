import { errorFactory } from '../errors/app-error.js';

/** Error catalog of traffic controls (ps:maintenance, ps:pause, proxy:set, proxy:report). */
export const TrafficErrors = {
  /** a bad on|off, duration, size or setting name */
  usage: errorFactory('PAAS_ERR_TRAFFIC_USAGE', 2),
} as const;
