import { errorFactory } from '../errors/app-error.js';

/** Error catalog of SSH key management. */
export const KeyErrors = {
  badName: errorFactory('PAAS_ERR_KEY_NAME', 2),
  usage: errorFactory('PAAS_ERR_KEY_USAGE', 2),
  exists: errorFactory('PAAS_ERR_KEY_EXISTS'),
  notFound: errorFactory('PAAS_ERR_KEY_NOT_FOUND'),
  lastAdmin: errorFactory('PAAS_ERR_KEY_LAST_ADMIN'),
  noApp: errorFactory('PAAS_ERR_KEY_NO_APP'),
  notGranted: errorFactory('PAAS_ERR_KEY_NOT_GRANTED'),
};
