import { errorFactory } from '../errors/app-error.js';

/** Error catalog of notifications (webhooks told about deploys, crashes, renewals and backups). */
export const NotificationErrors = {
  badName: errorFactory('PAAS_ERR_NOTIFY_NAME', 2),
  badUrl: errorFactory('PAAS_ERR_NOTIFY_URL', 2),
  badEvents: errorFactory('PAAS_ERR_NOTIFY_EVENTS', 2),
  exists: errorFactory('PAAS_ERR_NOTIFY_EXISTS'),
  notFound: errorFactory('PAAS_ERR_NOTIFY_NOT_FOUND'),
  deliveryFailed: errorFactory('PAAS_ERR_NOTIFY_DELIVERY'),
};
