import type { Notice, NotificationEvent, NotificationSink } from '../contracts/notification-sink.js';
import type { Logger } from '../log/logger.js';
import type { LastDelivery, NotificationRow, NotificationsRepository } from '../state/notifications-repository.js';
import { type Delivery, DeliveryQueue, type RetryPolicy } from './delivery-queue.js';
import { parseEventList } from './event-list.js';
import { NotificationErrors } from './notification-errors.js';
import { webhookPayload } from './webhook-payload.js';
import { type SendResult, type SendTimeouts, sendWebhook } from './webhook-sender.js';
import { SIGNATURE_HEADER, TIMESTAMP_HEADER, newSigningSecret, signDelivery } from './webhook-signature.js';
import { maskWebhookUrl, parseWebhookUrl } from './webhook-url.js';

const NAME = /^[a-z0-9][a-z0-9-]{0,39}$/;

/** A notification as `notifications:list` shows it: never its secret, its URL masked. */
export interface NotificationInfo {
  name: string;
  url: string;
  events: NotificationEvent[];
  createdAt: string;
  last: LastDelivery | null;
  /** deliveries waiting or in flight in this server process */
  queued: number;
  /** deliveries dropped because its queue was full, since the server started */
  dropped: number;
}

export interface NotificationServiceDeps {
  repo: Pick<NotificationsRepository, 'add' | 'get' | 'list' | 'forEvent' | 'remove' | 'recordDelivery'>;
  policy: RetryPolicy;
  timeouts: SendTimeouts;
  /** this host's name, in every payload */
  host: string;
  userAgent: string;
  log: Logger;
  /** one HTTP attempt (unit tests pass their own) */
  send?: typeof sendWebhook;
  /** app.crashed: at most one per app in this window (a crash loop, or an OOM kill's `oom` then `die`) */
  crashQuietMs?: number;
}

/**
 * notifications:*: webhooks an admin adds, told about the events they subscribe to. As the
 * control plane's NotificationSink it turns each event into a signed JSON delivery per
 * subscribed receiver and hands it to the DeliveryQueue; `notify` never waits and never throws.
 */
export class NotificationService implements NotificationSink {
  private readonly queue: DeliveryQueue;
  private readonly send: typeof sendWebhook;
  private readonly lastCrash = new Map<string, number>();

  constructor(private readonly deps: NotificationServiceDeps) {
    this.send = deps.send ?? sendWebhook;
    this.queue = new DeliveryQueue({
      attempt: (name, d, signal) => this.attempt(name, d, signal),
      onOutcome: (name, o) => {
        if (this.deps.repo.get(name)) this.deps.repo.recordDelivery(name, o);
      },
      policy: deps.policy,
      log: deps.log,
    });
  }

  /** Adds a receiver; returns it and its signing secret (shown this once). */
  add(name: string, rawUrl: string, events?: string): { info: NotificationInfo; secret: string } {
    if (!NAME.test(name))
      throw NotificationErrors.badName(`invalid notification name '${name.slice(0, 40)}': lowercase letters, digits and '-', at most 40`);
    const url = parseWebhookUrl(rawUrl);
    const list = parseEventList(events);
    if (this.deps.repo.get(name))
      throw NotificationErrors.exists(`notification '${name}' already exists (notifications:remove ${name} first)`);
    const secret = newSigningSecret();
    this.deps.repo.add(name, url.href, list, secret);
    return { info: this.info(this.deps.repo.get(name)!), secret };
  }

  list(): NotificationInfo[] {
    return this.deps.repo.list().map((r) => this.info(r));
  }

  remove(name: string): void {
    if (!this.deps.repo.remove(name)) throw this.notFound(name);
    this.queue.forget(name);
  }

  /** One signed `test` delivery now, outside the queue (no retry); throws with the receiver's answer when it fails. */
  async test(name: string, signal?: AbortSignal): Promise<{ status: number; ms: number }> {
    const row = this.deps.repo.get(name);
    if (!row) throw this.notFound(name);
    const payload = webhookPayload({ event: 'test', message: `test notification for '${name}'` }, this.deps.host);
    const d: Delivery = { id: payload.id, event: 'test', body: JSON.stringify(payload) };
    const r = await this.attempt(name, d, signal ?? new AbortController().signal);
    this.deps.repo.recordDelivery(name, {
      event: 'test',
      ok: r.ok,
      status: r.status,
      error: r.error,
      attempts: 1,
      at: new Date().toISOString(),
    });
    if (!r.ok) throw NotificationErrors.deliveryFailed(`the test delivery to '${name}' failed: ${r.error}`);
    return { status: r.status!, ms: r.ms };
  }

  notify(notice: Notice): void {
    try {
      if (notice.event === 'app.crashed' && notice.app && this.quiet(notice.app)) return;
      const rows = this.deps.repo.forEvent(notice.event);
      if (!rows.length) return;
      const payload = webhookPayload(notice, this.deps.host);
      const d: Delivery = { id: payload.id, event: notice.event, body: JSON.stringify(payload) };
      for (const r of rows) this.queue.enqueue(r.name, d);
    } catch (err) {
      this.deps.log.error({ err, event: notice.event }, 'could not queue a notification');
    }
  }

  /** Stops every delivery (the server stops). */
  close(): void {
    this.queue.close();
  }

  /** Whether an app.crashed for `app` falls in the quiet window of the last one sent. */
  private quiet(app: string): boolean {
    const now = Date.now();
    const last = this.lastCrash.get(app);
    if (last !== undefined && now - last < (this.deps.crashQuietMs ?? 60_000)) {
      this.deps.log.info({ app }, 'app.crashed notification folded into the previous one');
      return true;
    }
    this.lastCrash.set(app, now);
    return false;
  }

  private attempt(name: string, d: Delivery, signal: AbortSignal): Promise<SendResult> {
    const row = this.deps.repo.get(name);
    if (!row) return Promise.resolve({ ok: false, status: null, error: 'removed', retry: false, ms: 0 });
    const timestamp = Math.floor(Date.now() / 1000);
    const headers = {
      'content-type': 'application/json',
      'user-agent': this.deps.userAgent,
      'x-paas-event': d.event,
      'x-paas-delivery': d.id,
      [TIMESTAMP_HEADER]: String(timestamp),
      [SIGNATURE_HEADER]: signDelivery(row.secret, timestamp, d.body),
    };
    return this.send(new URL(row.url), headers, d.body, this.deps.timeouts, signal);
  }

  private info(r: NotificationRow): NotificationInfo {
    const last: LastDelivery | null =
      r.last_at === null
        ? null
        : {
            event: r.last_event ?? '',
            at: r.last_at,
            ok: r.last_ok === 1,
            status: r.last_status,
            error: r.last_error,
            attempts: r.last_attempts ?? 0,
          };
    return {
      name: r.name,
      url: maskWebhookUrl(r.url),
      events: JSON.parse(r.events_json) as NotificationEvent[],
      createdAt: r.created_at,
      last,
      ...this.queue.stats(r.name),
    };
  }

  private notFound(name: string) {
    return NotificationErrors.notFound(`no notification '${name.slice(0, 40)}' (notifications:list shows them)`);
  }
}
