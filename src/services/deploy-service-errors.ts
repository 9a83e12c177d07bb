import { errorFactory } from '../errors/app-error.js';

/** Error catalog of deploys without a push (git:load-image, git:from-image, ps:rebuild). */
export const DeployServiceErrors = {
  otherAppsImage: errorFactory('PAAS_ERR_IMAGE_OTHER_APP'),
  imageGone: errorFactory('PAAS_ERR_IMAGE_GONE'),
  nothingToRebuild: errorFactory('PAAS_ERR_REBUILD_NOTHING'),
};
