import { errorFactory } from '../../errors/app-error.js';

/** Error catalog of paas's image registry (the CNCF distribution server on the manager). */
export const RegistryErrors = {
  /** openssl or htpasswd failed while making the CA, the certificate or the password file */
  setupFailed: errorFactory('PAAS_ERR_REGISTRY_SETUP_FAILED'),
  /** the docker-registry program is missing or does not answer */
  unavailable: errorFactory('PAAS_ERR_REGISTRY_UNAVAILABLE'),
  pushFailed: errorFactory('PAAS_ERR_REGISTRY_PUSH_FAILED'),
};
