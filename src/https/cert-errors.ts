import { errorFactory } from '../errors/app-error.js';

/** Error catalog of certificates (certs:*). */
export const CertErrors = {
  /** stdin is not a PEM bundle of certificate(s) and one private key */
  invalidPem: errorFactory('PAAS_ERR_CERT_INVALID_PEM', 2),
  /** the private key does not belong to any certificate of the bundle */
  keyMismatch: errorFactory('PAAS_ERR_CERT_KEY_MISMATCH', 2),
  /** certs:remove on an app without a custom certificate */
  notFound: errorFactory('PAAS_ERR_CERT_NOT_FOUND'),
  /** certs:set with an unknown key or a value other than on/off */
  invalidOption: errorFactory('PAAS_ERR_CERT_INVALID_OPTION', 2),
  /** a developer key's certificate names a host of paas itself (the apex, paas.<domain>, the dashboard's) */
  platformHost: errorFactory('PAAS_ERR_CERT_PLATFORM_HOST'),
};
