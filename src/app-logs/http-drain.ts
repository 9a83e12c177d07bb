import type { Logger } from '../log/logger.js';
import type { DrainTarget } from './drain-url.js';
import { type DrainOptions, QueuedDrain } from './queued-drain.js';

const BATCH_LINES = 500;
const BATCH_BYTES = 1024 * 1024;

/**
 * Ships an app's lines to an HTTP(S) endpoint the way Heroku's HTTPS drains do: POSTs of up to
 * 500 octet-counted RFC 5424 messages (`Content-Type: application/logplex-1`,
 * `Logplex-Msg-Count`). One request at a time, each with a deadline; a batch the receiver
 * refuses or never answers is dropped and counted, and the next waits with backoff.
 */
export class HttpDrain extends QueuedDrain {
  private readonly url: string;
  private readonly auth: string | null;
  private inFlight: AbortController | null = null;

  constructor(app: string, target: DrainTarget, opts: DrainOptions, log: Logger) {
    super(app, target, opts, log);
    // fetch refuses credentials in the URL: they travel as Basic auth
    const u = new URL(target.url);
    this.auth = u.username
      ? `Basic ${Buffer.from(`${decodeURIComponent(u.username)}:${decodeURIComponent(u.password)}`).toString('base64')}`
      : null;
    u.username = '';
    u.password = '';
    this.url = u.toString();
  }

  protected shutdown(): void {
    this.inFlight?.abort();
  }

  protected pump(): void {
    if (this.closed || this.inFlight || this.retry || !this.queue.length) return;
    const batch = this.queue.take(BATCH_LINES, BATCH_BYTES);
    const ac = new AbortController();
    this.inFlight = ac;
    const timer = setTimeout(() => ac.abort(new Error(`no answer within ${this.opts.timeoutMs} ms`)), this.opts.timeoutMs);
    timer.unref();
    void fetch(this.url, {
      method: 'POST',
      headers: {
        'content-type': 'application/logplex-1',
        'logplex-msg-count': String(batch.length),
        ...(this.auth ? { authorization: this.auth } : {}),
      },
      body: Buffer.concat(batch),
      signal: ac.signal,
    })
      .then(async (res) => {
        await res.arrayBuffer().catch(() => undefined);
        if (!res.ok) throw new Error(`the drain answered ${res.status}`);
        this.sent += batch.length;
        this.succeeded();
      })
      .catch((err: unknown) => {
        const reason = ac.signal.aborted && ac.signal.reason instanceof Error ? ac.signal.reason : (err as Error);
        this.failed((reason as { cause?: Error }).cause?.message ?? reason.message);
        this.lost += batch.length;
        this.retryLater();
      })
      .finally(() => {
        clearTimeout(timer);
        this.inFlight = null;
        this.pump();
      });
  }
}
