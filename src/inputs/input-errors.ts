import { errorFactory } from '../errors/app-error.js';

/** Error catalog of command inputs (config pairs, scale, checks, domains, limits, mounts): all usage errors (exit 2) but the refused mount. */
export const InputErrors = {
  configUsage: errorFactory('PAAS_ERR_CONFIG_USAGE', 2),
  configMalformed: errorFactory('PAAS_ERR_CONFIG_MALFORMED', 2),
  configKey: errorFactory('PAAS_ERR_CONFIG_KEY', 2),
  configEncoding: errorFactory('PAAS_ERR_CONFIG_ENCODING', 2),
  configFormat: errorFactory('PAAS_ERR_CONFIG_FORMAT', 2),
  configImport: errorFactory('PAAS_ERR_CONFIG_IMPORT', 2),
  scaleUsage: errorFactory('PAAS_ERR_SCALE_USAGE', 2),
  scaleMalformed: errorFactory('PAAS_ERR_SCALE_MALFORMED', 2),
  scaleProcess: errorFactory('PAAS_ERR_SCALE_PROCESS', 2),
  scaleCount: errorFactory('PAAS_ERR_SCALE_COUNT', 2),
  scaleMax: errorFactory('PAAS_ERR_SCALE_MAX', 2),
  checksUsage: errorFactory('PAAS_ERR_CHECKS_USAGE', 2),
  checksMalformed: errorFactory('PAAS_ERR_CHECKS_MALFORMED', 2),
  checksPath: errorFactory('PAAS_ERR_CHECKS_PATH', 2),
  checksValue: errorFactory('PAAS_ERR_CHECKS_VALUE', 2),
  checksKey: errorFactory('PAAS_ERR_CHECKS_KEY', 2),
  domainInvalid: errorFactory('PAAS_ERR_DOMAIN_INVALID', 2),
  count: errorFactory('PAAS_ERR_COUNT_USAGE', 2),
  portValue: errorFactory('PAAS_ERR_PORT_VALUE', 2),
  imageRef: errorFactory('PAAS_ERR_IMAGE_REF', 2),
  resourceUsage: errorFactory('PAAS_ERR_RESOURCE_USAGE', 2),
  storageUsage: errorFactory('PAAS_ERR_STORAGE_USAGE', 2),
  storageForbidden: errorFactory('PAAS_ERR_STORAGE_FORBIDDEN'),
};
