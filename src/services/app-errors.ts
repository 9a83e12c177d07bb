import { errorFactory } from '../errors/app-error.js';

/** Error catalog of app lifecycle commands. */
export const AppErrors = {
  confirm: errorFactory('PAAS_ERR_APP_CONFIRM', 2),
};
