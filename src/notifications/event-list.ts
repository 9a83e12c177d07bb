import { NOTIFICATION_EVENTS, type NotificationEvent } from '../contracts/notification-sink.js';
import { NotificationErrors } from './notification-errors.js';

const KNOWN = new Set<string>(NOTIFICATION_EVENTS);

/** `--events a,b` (absent or `all`: every event), in the catalog's order; an unknown name is refused with the valid ones. */
export function parseEventList(raw: string | undefined): NotificationEvent[] {
  if (raw === undefined || raw.trim() === 'all') return [...NOTIFICATION_EVENTS];
  const names = raw.split(',').map((s) => s.trim());
  if (names.some((n) => n === ''))
    throw NotificationErrors.badEvents(`--events takes a comma-separated list of: ${NOTIFICATION_EVENTS.join(', ')}`);
  const unknown = names.filter((n) => !KNOWN.has(n));
  if (unknown.length)
    throw NotificationErrors.badEvents(`unknown event '${unknown[0]!.slice(0, 40)}'; events are: ${NOTIFICATION_EVENTS.join(', ')}`);
  return NOTIFICATION_EVENTS.filter((e) => names.includes(e));
}
