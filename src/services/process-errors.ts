import { errorFactory } from '../errors/app-error.js';

/** Error catalog of process control (ps:*). */
export const ProcessErrors = {
  stopped: errorFactory('PAAS_ERR_OPS_STOPPED'),
  badSetting: errorFactory('PAAS_ERR_PS_SET', 2),
  forbidden: errorFactory('PAAS_ERR_PS_FORBIDDEN'),
  /** ps:scale of a process type app.json `formation` sets */
  formationLocked: errorFactory('PAAS_ERR_PS_FORMATION_LOCKED'),
};
