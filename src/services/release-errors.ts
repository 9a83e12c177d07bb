import { errorFactory } from '../errors/app-error.js';

/** Error catalog of release history and rollback. */
export const ReleaseErrors = {
  usage: errorFactory('PAAS_ERR_RELEASES_USAGE', 2),
  none: errorFactory('PAAS_ERR_RELEASES_NONE'),
  notFound: errorFactory('PAAS_ERR_RELEASES_NOT_FOUND'),
  noLog: errorFactory('PAAS_ERR_RELEASES_NO_LOG'),
  noTarget: errorFactory('PAAS_ERR_ROLLBACK_NO_TARGET'),
  noImage: errorFactory('PAAS_ERR_ROLLBACK_NO_IMAGE'),
  same: errorFactory('PAAS_ERR_ROLLBACK_SAME'),
  /** a bad `releases:set` key or value */
  setting: errorFactory('PAAS_ERR_RELEASES_SETTING', 2),
};
