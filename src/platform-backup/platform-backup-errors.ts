import { errorFactory } from '../errors/app-error.js';

/** Error catalog of `paas admin backup` (platform backup and move). Exit 2: bad input, nothing changed. */
export const PlatformBackupErrors = {
  usage: errorFactory('PAAS_ERR_PLATFORM_BACKUP_USAGE', 2),
  key: errorFactory('PAAS_ERR_PLATFORM_BACKUP_KEY', 2),
  corrupt: errorFactory('PAAS_ERR_PLATFORM_BACKUP_CORRUPT', 2),
  decrypt: errorFactory('PAAS_ERR_PLATFORM_BACKUP_DECRYPT', 2),
  notEmpty: errorFactory('PAAS_ERR_PLATFORM_BACKUP_NOT_EMPTY', 2),
  noDaemon: errorFactory('PAAS_ERR_PLATFORM_BACKUP_NO_DAEMON', 2),
  createFailed: errorFactory('PAAS_ERR_PLATFORM_BACKUP_CREATE_FAILED'),
  restoreFailed: errorFactory('PAAS_ERR_PLATFORM_BACKUP_RESTORE_FAILED'),
  offsite: errorFactory('PAAS_ERR_PLATFORM_BACKUP_OFFSITE'),
  schedule: errorFactory('PAAS_ERR_PLATFORM_BACKUP_SCHEDULE', 2),
};
