import { errorFactory } from '../errors/app-error.js';
import { ImageOwnershipErrors } from '../runtime/image-ownership-errors.js';

/** Error catalog of deploys without a push (git:load-image, git:from-image, ps:rebuild). */
export const DeployServiceErrors = {
  /** the same code (and factory) as a build's refusal: declared once, in the runtime's catalog */
  otherAppsImage: ImageOwnershipErrors.otherApp,
  imageGone: errorFactory('PAAS_ERR_IMAGE_GONE'),
  nothingToRebuild: errorFactory('PAAS_ERR_REBUILD_NOTHING'),
};
