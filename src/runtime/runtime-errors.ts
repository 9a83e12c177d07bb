import { errorFactory } from '../errors/app-error.js';

/** Every error the container runtime throws. A user sees the message as one line; the cause goes to the log. */
export const RuntimeErrors = {
  /** create/start was refused by the engine (bad image, bad bind, name clash) */
  startFailed: errorFactory('PAAS_ERR_RUNTIME_START_FAILED'),
  /** the image to run does not exist locally (pruned, never built) */
  imageMissing: errorFactory('PAAS_ERR_RUNTIME_IMAGE_MISSING'),
  /** no such container */
  notFound: errorFactory('PAAS_ERR_RUNTIME_NOT_FOUND', 1, 404),
  /** the operation was cancelled through its AbortSignal */
  cancelled: errorFactory('PAAS_ERR_RUNTIME_CANCELLED', 130),
  /** the Docker engine could not be reached or answered with an unexpected error */
  docker: errorFactory('PAAS_ERR_RUNTIME_DOCKER', 1, 503),
  /** a spec that can never run (bad name, bad port, bad bind) */
  invalidSpec: errorFactory('PAAS_ERR_RUNTIME_INVALID_SPEC'),
  /** `git:load-image`: the engine refused the uploaded tar */
  loadFailed: errorFactory('PAAS_ERR_RUNTIME_LOAD_FAILED'),
  /** `git:load-image`: the upload is not `docker save` output */
  notDockerSave: errorFactory('PAAS_ERR_RUNTIME_NOT_DOCKER_SAVE', 2),
  /** `git:load-image`: the tar holds another image than the one named, or several */
  wrongImage: errorFactory('PAAS_ERR_RUNTIME_WRONG_IMAGE', 2),
  /** `git:load-image`: the upload is larger than `builder:set --global max-image-size` */
  imageTooLarge: errorFactory('PAAS_ERR_RUNTIME_IMAGE_TOO_LARGE'),
  /** `git:from-image`: the image is not here and could not be pulled */
  pullFailed: errorFactory('PAAS_ERR_RUNTIME_PULL_FAILED'),
  /** a container exited during boot; thrown as ContainerCrashedError, which carries the exit code and log tail */
  crashed: errorFactory('PAAS_ERR_RUNTIME_CRASHED'),
} as const;
