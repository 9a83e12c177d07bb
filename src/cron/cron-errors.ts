import { errorFactory } from '../errors/app-error.js';

/** Error catalog of scheduled tasks (app.json `cron`, `cron:` commands). Exit 2: bad input, nothing changed. */
export const CronErrors = {
  /** an app.json `cron` entry the push refuses (bad schedule, shell operators, unknown policy) */
  appJson: errorFactory('PAAS_ERR_CRON_APP_JSON', 2),
  usage: errorFactory('PAAS_ERR_CRON_USAGE', 2),
  /** no task with that id in the live release's app.json */
  notFound: errorFactory('PAAS_ERR_CRON_NOT_FOUND'),
  /** `cron:run` of a `forbid` task that is running */
  busy: errorFactory('PAAS_ERR_CRON_BUSY'),
  /** the run's container could not be created or started */
  startFailed: errorFactory('PAAS_ERR_CRON_START_FAILED'),
};
