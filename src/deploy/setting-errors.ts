import { errorFactory } from '../errors/app-error.js';

/** Error catalog of the app settings schema. */
export const SettingErrors = {
  /** a value that does not fit its setting (a bug in the caller, or a hand-edited database) */
  invalid: errorFactory('PAAS_ERR_SETTING_INVALID', 2),
};
