import { errorFactory } from '../errors/app-error.js';

/** Error catalog of the add-ons (postgres:, redis:). Exit 2: bad input, nothing changed. */
export const AddonErrors = {
  usage: errorFactory('PAAS_ERR_ADDON_USAGE', 2),
  badName: errorFactory('PAAS_ERR_ADDON_NAME', 2),
  exists: errorFactory('PAAS_ERR_ADDON_EXISTS'),
  notFound: errorFactory('PAAS_ERR_ADDON_NOT_FOUND'),
  confirm: errorFactory('PAAS_ERR_ADDON_CONFIRM', 2),
  linked: errorFactory('PAAS_ERR_ADDON_LINKED'),
  alreadyLinked: errorFactory('PAAS_ERR_ADDON_ALREADY_LINKED'),
  notLinked: errorFactory('PAAS_ERR_ADDON_NOT_LINKED'),
  varTaken: errorFactory('PAAS_ERR_ADDON_VAR_TAKEN'),
  notRunning: errorFactory('PAAS_ERR_ADDON_NOT_RUNNING'),
  unhealthy: errorFactory('PAAS_ERR_ADDON_UNHEALTHY'),
  dumpFailed: errorFactory('PAAS_ERR_ADDON_DUMP_FAILED'),
  badDump: errorFactory('PAAS_ERR_ADDON_BAD_DUMP', 2),
  restoreFailed: errorFactory('PAAS_ERR_ADDON_RESTORE_FAILED'),
  backupFailed: errorFactory('PAAS_ERR_ADDON_BACKUP_FAILED'),
  backupNotFound: errorFactory('PAAS_ERR_ADDON_BACKUP_NOT_FOUND'),
  schedule: errorFactory('PAAS_ERR_ADDON_SCHEDULE', 2),
  target: errorFactory('PAAS_ERR_ADDON_TARGET', 2),
  upload: errorFactory('PAAS_ERR_ADDON_UPLOAD'),
  upgrade: errorFactory('PAAS_ERR_ADDON_UPGRADE'),
};
