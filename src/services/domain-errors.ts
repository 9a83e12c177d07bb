import { errorFactory } from '../errors/app-error.js';

/** Error catalog of domains. */
export const DomainErrors = {
  taken: errorFactory('PAAS_ERR_DOMAIN_TAKEN'),
  missing: errorFactory('PAAS_ERR_DOMAIN_NOT_FOUND'),
  exists: errorFactory('PAAS_ERR_DOMAIN_EXISTS'),
  /** a developer key adding a host under the global domain that names none of its apps, or the apex / paas's own host */
  reserved: errorFactory('PAAS_ERR_DOMAIN_RESERVED'),
};
