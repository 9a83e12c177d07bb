import { errorFactory } from '../errors/app-error.js';

const E = {
  procfile: errorFactory('PAAS_ERR_DEPLOY_PROCFILE'),
  appJson: errorFactory('PAAS_ERR_DEPLOY_APP_JSON'),
  crashed: errorFactory('PAAS_ERR_DEPLOY_CRASHED'),
  unhealthy: errorFactory('PAAS_ERR_DEPLOY_UNHEALTHY'),
  cancelled: errorFactory('PAAS_ERR_DEPLOY_CANCELLED'),
  noRelease: errorFactory('PAAS_ERR_DEPLOY_NO_RELEASE'),
  releaseNotFound: errorFactory('PAAS_ERR_DEPLOY_RELEASE_NOT_FOUND'),
  imageGone: errorFactory('PAAS_ERR_DEPLOY_IMAGE_PRUNED'),
  releaseTaskFailed: errorFactory('PAAS_ERR_DEPLOY_RELEASE_TASK'),
  notListening: errorFactory('PAAS_ERR_DEPLOY_NOT_LISTENING'),
};

/** Error catalog of the deploy pipeline. */
export const DeployErrors = {
  codes: E,
  procfile: (line: number, text: string) => E.procfile(`Procfile line ${line} is not 'type: command': ${text.slice(0, 80)}`),
  appJson: (message: string) => E.appJson(`app.json: ${message}`),
  crashed: (message: string, cause?: unknown) => E.crashed(message, cause),
  unhealthy: (message: string, cause?: unknown) => E.unhealthy(message, cause),
  cancelled: () => E.cancelled('deploy cancelled: the client went away'),
  noRelease: (app: string) => E.noRelease(`app '${app}' has no live release yet: push it first`),
  releaseNotFound: (app: string, v: string) => E.releaseNotFound(`app '${app}' has no release ${v}`),
  imageGone: (app: string, v: number, image: string) =>
    E.imageGone(`release v${v} of '${app}' cannot be restored: its image ${image} was pruned (only the last 5 are kept)`),
  /** a deployment task (predeploy, Procfile release, postdeploy) failed; `output`: its last lines */
  taskFailed: (task: string, code: number, output: string) =>
    E.releaseTaskFailed(`${task} exited with code ${code}${output ? `\nlast lines of its output:\n${output}` : ''}`),
  notListening: (container: string, port: number, seconds: number, logs: string) =>
    E.notListening(
      `${container}: nothing listens on port ${port} (PORT) after ${seconds} s up; a background process belongs under another Procfile name such as worker:${logs}`,
    ),
};
