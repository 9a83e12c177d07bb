import { errorFactory } from '../errors/app-error.js';

/** Error catalog of Let's Encrypt (letsencrypt:*) and the ACME client. */
export const AcmeErrors = {
  /** no account email: neither --acme-email nor letsencrypt:set --global email */
  noEmail: errorFactory('PAAS_ERR_ACME_NO_EMAIL'),
  /** the ACME directory did not answer (timeout, refused, TLS) */
  unreachable: errorFactory('PAAS_ERR_ACME_UNREACHABLE'),
  /** the ACME server refused the order, a challenge or the finalization (its reason, per name) */
  rejected: errorFactory('PAAS_ERR_ACME_REJECTED'),
  /** 429 / rateLimited: no retries until its retry-after */
  rateLimited: errorFactory('PAAS_ERR_ACME_RATE_LIMITED'),
  /** letsencrypt:disable/renew on an app without Let's Encrypt */
  notEnabled: errorFactory('PAAS_ERR_ACME_NOT_ENABLED'),
  /** letsencrypt:set with an unknown key or a bad value */
  invalidSetting: errorFactory('PAAS_ERR_ACME_INVALID_SETTING', 2),
};
