import { errorFactory } from '../errors/app-error.js';

/** Every error opening the state database throws. */
export const StateErrors = {
  /** the SQLite file cannot be created or opened */
  open: errorFactory('PAAS_ERR_STATE_OPEN'),
  /** the file was migrated by a newer paas than this one */
  tooNew: errorFactory('PAAS_ERR_STATE_TOO_NEW'),
} as const;
