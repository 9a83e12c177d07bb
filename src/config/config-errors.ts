import { errorFactory } from '../errors/app-error.js';

/** Every error reading the server's configuration throws: the daemon refuses to start, exit 2. */
export const ConfigErrors = {
  /** a flag or environment variable is unknown, missing its value, or out of range */
  invalid: errorFactory('PAAS_ERR_CONFIG_INVALID', 2),
} as const;
