import { errorFactory } from '../errors/app-error.js';

/** Error catalog of `ports:set`. */
export const PortErrors = {
  notExposed: errorFactory('PAAS_ERR_PORT_NOT_EXPOSED', 2),
};
