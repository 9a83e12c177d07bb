import os from 'node:os';
import { notificationKnobs } from '../../config/env-knobs.js';
import type { Logger } from '../../log/logger.js';
import { NotificationService } from '../../notifications/notification-service.js';
import { NotificationsRepository } from '../../state/notifications-repository.js';
import type { State } from '../../state/state.js';
import { packageVersion } from '../../util/package-info.js';

/** deliveries waiting per receiver before the oldest is dropped */
const MAX_QUEUED = 100;

/** Notifications: the webhooks told about events, and the sink every emitter is handed. Built first: the deploy pipeline, HTTPS and add-ons emit. */
export function wireNotifications(state: State, log: Logger): NotificationService {
  const knobs = notificationKnobs();
  return new NotificationService({
    repo: new NotificationsRepository(state.db),
    policy: { maxAttempts: knobs.attempts, baseDelayMs: knobs.retryBaseMs, maxDelayMs: 60_000, maxQueued: MAX_QUEUED },
    timeouts: { connectMs: knobs.connectTimeoutMs, responseMs: knobs.responseTimeoutMs },
    host: os.hostname(),
    userAgent: `paas/${packageVersion()}`,
    log: log.child({ module: 'notifications' }),
  });
}
