import { errorFactory } from '../errors/app-error.js';

/** Every error the builders throw. A user sees the message as one line; the cause goes to the log. */
export const BuildErrors = {
  /** the build ran and failed (a Dockerfile step, pack exiting non-zero) */
  failed: errorFactory('PAAS_ERR_BUILD_FAILED'),
  /** the build was cancelled through its AbortSignal */
  cancelled: errorFactory('PAAS_ERR_BUILD_CANCELLED', 130),
  /** builder forced to `pack` (or selected) but no `pack` binary on PATH */
  packMissing: errorFactory('PAAS_ERR_BUILD_PACK_MISSING'),
  /** the template builder recognised no stack */
  undetected: errorFactory('PAAS_ERR_BUILD_UNDETECTED'),
  /** `builder:set` named a builder that does not exist */
  unknownBuilder: errorFactory('PAAS_ERR_BUILD_UNKNOWN_BUILDER'),
  /** the dockerfile builder was forced but the source has no Dockerfile */
  noDockerfile: errorFactory('PAAS_ERR_BUILD_NO_DOCKERFILE'),
  /** `build-dir` / `dockerfile-path` outside the repository, missing, or of the wrong kind */
  path: errorFactory('PAAS_ERR_BUILD_PATH', 2),
  /** a build step hit the build's process or memory limit, or the build ran past its time limit */
  limit: errorFactory('PAAS_ERR_BUILD_LIMIT'),
  /** free memory stayed below `min-free-memory`: the build was refused rather than OOM-killed */
  lowMemory: errorFactory('PAAS_ERR_BUILD_LOW_MEMORY'),
  /** a template or the source could not be read */
  badSource: errorFactory('PAAS_ERR_BUILD_BAD_SOURCE'),
  /** the Docker engine could not be reached or refused the request */
  docker: errorFactory('PAAS_ERR_BUILD_DOCKER', 1, 503),
} as const;
