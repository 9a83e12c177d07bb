import { AppError } from '../errors/app-error.js';

export const DeployErrors = {
  procfile: (line: number, text: string) =>
    new AppError('PAAS_ERR_DEPLOY_PROCFILE', `Procfile line ${line} is not 'type: command': ${text.slice(0, 80)}`),
  appJson: (message: string) => new AppError('PAAS_ERR_DEPLOY_APP_JSON', `app.json: ${message}`),
  crashed: (message: string, cause?: unknown) => new AppError('PAAS_ERR_DEPLOY_CRASHED', message, { cause }),
  unhealthy: (message: string, cause?: unknown) => new AppError('PAAS_ERR_DEPLOY_UNHEALTHY', message, { cause }),
  cancelled: () => new AppError('PAAS_ERR_DEPLOY_CANCELLED', 'deploy cancelled: the client went away'),
  noRelease: (app: string) => new AppError('PAAS_ERR_DEPLOY_NO_RELEASE', `app '${app}' has no live release yet: push it first`),
  releaseNotFound: (app: string, v: string) => new AppError('PAAS_ERR_DEPLOY_RELEASE_NOT_FOUND', `app '${app}' has no release ${v}`),
  imageGone: (app: string, v: number, image: string) =>
    new AppError(
      'PAAS_ERR_DEPLOY_IMAGE_PRUNED',
      `release v${v} of '${app}' cannot be restored: its image ${image} was pruned (only the last 5 are kept)`,
    ),
  releaseTaskFailed: (code: number, logs: string) =>
    new AppError('PAAS_ERR_DEPLOY_RELEASE_TASK', `the release task exited with code ${code}${logs ? `\n${logs}` : ''}`),
};
