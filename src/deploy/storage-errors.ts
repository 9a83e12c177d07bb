import { errorFactory } from '../errors/app-error.js';

/**
 * Error catalog of host paths for `storage:*` beyond the mount's input (in input-errors.ts): a
 * symlink on a bind's host path (at mount time and at every rollout) and the allowed roots.
 */
export const StorageErrors = {
  /** a component of a host path is a symlink: refused at storage:mount, storage:allow-root and every rollout */
  symlink: errorFactory('PAAS_ERR_STORAGE_SYMLINK'),
  /** `storage:allow-root DIR`: DIR is not an absolute path to an existing directory */
  root: errorFactory('PAAS_ERR_STORAGE_ROOT', 2),
  /** `storage:allow-root --remove DIR`: DIR is not an allowed root */
  rootNotFound: errorFactory('PAAS_ERR_STORAGE_ROOT_NOT_FOUND'),
  /** a bind's host dir is inside another writable bind's host dir (or holds one): a container could swap it for a symlink before Docker restarts the other */
  nested: errorFactory('PAAS_ERR_STORAGE_NESTED'),
};
