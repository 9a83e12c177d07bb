import { errorFactory } from '../errors/app-error.js';

/** Error catalog of config vars. */
export const ConfigErrors = {
  notSet: errorFactory('PAAS_ERR_CONFIG_NOT_SET'),
};
