import { errorFactory } from '../errors/app-error.js';

/** Error catalog of the settings commands (builder, storage, resource:set). */
export const SettingsErrors = {
  unknownBuilder: errorFactory('PAAS_ERR_BUILDER_UNKNOWN', 2),
  builderGlobal: errorFactory('PAAS_ERR_BUILDER_GLOBAL', 2),
  mountTaken: errorFactory('PAAS_ERR_STORAGE_TAKEN'),
  notMounted: errorFactory('PAAS_ERR_STORAGE_NOT_MOUNTED'),
  resourceSetting: errorFactory('PAAS_ERR_RESOURCE_SETTING', 2),
  forbidden: errorFactory('PAAS_ERR_RESOURCE_FORBIDDEN'),
  aboveHostDefaults: errorFactory('PAAS_ERR_RESOURCE_ABOVE_DEFAULT'),
};
