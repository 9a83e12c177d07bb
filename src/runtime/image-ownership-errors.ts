import { errorFactory } from '../errors/app-error.js';

/**
 * Error catalog of image ownership: one code for every refusal of another app's image, whether
 * `git:from-image`, `git:load-image` or a build's FROM / COPY --from asked for it.
 */
export const ImageOwnershipErrors = {
  /** a developer key named an image another app owns (or a loose layer no app of its owns) */
  otherApp: errorFactory('PAAS_ERR_IMAGE_OTHER_APP'),
};
