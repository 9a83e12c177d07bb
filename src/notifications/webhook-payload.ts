import { randomUUID } from 'node:crypto';
import type { Notice, NotificationEvent } from '../contracts/notification-sink.js';

/** Discord refuses a `content` longer than this */
const MAX_TEXT = 2000;

/** The JSON body of a delivery: the structured fields, plus `text` (Slack) and `content` (Discord) holding one readable line. */
export interface WebhookPayload {
  id: string;
  event: NotificationEvent | 'test';
  app: string | null;
  release: number | null;
  node: string | null;
  addon: string | null;
  message: string;
  /** ISO 8601, when paas saw the event */
  time: string;
  /** the paas host's name */
  host: string;
  text: string;
  content: string;
}

export function webhookPayload(
  notice: Notice | (Omit<Notice, 'event'> & { event: 'test' }),
  host: string,
  at = new Date(),
): WebhookPayload {
  const subject = notice.app ? ` ${notice.app}${notice.release ? ` v${notice.release}` : ''}` : '';
  const line = `[paas ${host}] ${notice.event}${subject}: ${notice.message}`;
  const text = line.length > MAX_TEXT ? `${line.slice(0, MAX_TEXT - 1)}…` : line;
  return {
    id: randomUUID(),
    event: notice.event,
    app: notice.app ?? null,
    release: notice.release ?? null,
    node: notice.node ?? null,
    addon: notice.addon ?? null,
    message: notice.message,
    time: at.toISOString(),
    host,
    text,
    content: text,
  };
}
