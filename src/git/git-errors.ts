import { AppError } from '../errors/app-error.js';

export const GitErrors = {
  badPath: (path: string) =>
    new AppError('PAAS_ERR_GIT_PATH', `'${path}' is not an app repository: use ssh://paas@<host>/<app> with a lowercase app name`, {
      exitCode: 2,
    }),
  noRepo: (app: string) => new AppError('PAAS_ERR_GIT_NO_REPO', `app '${app}' has no repository yet: push to it first`),
  exportFailed: (sha: string, cause: unknown) =>
    new AppError('PAAS_ERR_GIT_EXPORT', `could not export commit ${sha.slice(0, 7)}`, { cause }),
};
