import { errorFactory } from '../errors/app-error.js';

/** Every error the git layer throws. A user sees the message as one line; the cause goes to the log. */
export const GitErrors = {
  /** the path of a git-receive-pack / git-upload-pack request names no app repository */
  badPath: errorFactory('PAAS_ERR_GIT_PATH', 2),
  /** a fetch or clone of an app that was never pushed */
  noRepo: errorFactory('PAAS_ERR_GIT_NO_REPO'),
  /** `git archive` of a pushed commit failed */
  exportFailed: errorFactory('PAAS_ERR_GIT_EXPORT'),
  /** the key may not push to or fetch this app */
  forbidden: errorFactory('PAAS_ERR_GIT_FORBIDDEN'),
} as const;
