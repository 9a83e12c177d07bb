import { errorFactory } from '../errors/app-error.js';

/** Errors of the free-disk floor (`builder:set --global min-free-disk`). */
export const DiskErrors = {
  /** the data dir or Docker's data root has less free space than the floor: the push, upload or build was refused */
  low: errorFactory('PAAS_ERR_DISK_LOW'),
} as const;
