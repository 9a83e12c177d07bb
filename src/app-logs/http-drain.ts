import type { Logger } from '../log/logger.js';
import type { DrainStats, LogDrain } from './log-drain.js';
import { DrainQueue } from './drain-queue.js';
import type { DrainTarget } from './drain-url.js';
import type { LogRecord } from './log-record.js';
import type { DrainOptions } from './syslog-drain.js';
import { octetFrame, syslogMessage } from './syslog-frame.js';

const BATCH_LINES = 500;
const BATCH_BYTES = 1024 * 1024;

/**
 * Ships an app's lines to an HTTP(S) endpoint the way Heroku's HTTPS drains do: POSTs of up to
 * 500 octet-counted RFC 5424 messages (`Content-Type: application/logplex-1`,
 * `Logplex-Msg-Count`). One request at a time, each with a deadline; a batch the receiver
 * refuses or never answers is dropped and counted, and the next waits with backoff (up to 30 s).
 */
export class HttpDrain implements LogDrain {
  private readonly queue: DrainQueue;
  private readonly url: string;
  private readonly auth: string | null;
  private inFlight: AbortController | null = null;
  private retry: NodeJS.Timeout | null = null;
  private backoffMs = 500;
  private closed = false;
  private sent = 0;
  private failed = 0;
  private lastError: string | null = null;

  constructor(
    private readonly app: string,
    private readonly target: DrainTarget,
    private readonly opts: DrainOptions,
    private readonly log: Logger,
  ) {
    this.queue = new DrainQueue(opts.capacity);
    // fetch refuses credentials in the URL: they travel as Basic auth
    const u = new URL(target.url);
    this.auth = u.username
      ? `Basic ${Buffer.from(`${decodeURIComponent(u.username)}:${decodeURIComponent(u.password)}`).toString('base64')}`
      : null;
    u.username = '';
    u.password = '';
    this.url = u.toString();
  }

  offer(records: LogRecord[]): void {
    if (this.closed) return;
    for (const r of records) this.queue.push(octetFrame(syslogMessage(this.app, this.opts.hostname, r)));
    this.pump();
  }

  stats(): DrainStats {
    return {
      url: this.target.url,
      sent: this.sent,
      dropped: this.queue.dropped + this.failed,
      queued: this.queue.length,
      lastError: this.lastError,
    };
  }

  close(): void {
    this.closed = true;
    if (this.retry) clearTimeout(this.retry);
    this.inFlight?.abort();
  }

  private pump(): void {
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
        this.backoffMs = 500;
        this.lastError = null;
      })
      .catch((err: unknown) => {
        const reason = ac.signal.aborted && ac.signal.reason instanceof Error ? ac.signal.reason : (err as Error);
        const msg = (reason as { cause?: Error }).cause?.message ?? reason.message;
        if (this.lastError !== msg) this.log.warn({ app: this.app, drain: this.target.host, err: msg }, 'log drain failed');
        this.lastError = msg;
        this.failed += batch.length;
        if (this.closed) return;
        this.retry = setTimeout(() => {
          this.retry = null;
          this.pump();
        }, this.backoffMs);
        this.retry.unref();
        this.backoffMs = Math.min(this.backoffMs * 2, 30_000);
      })
      .finally(() => {
        clearTimeout(timer);
        this.inFlight = null;
        this.pump();
      });
  }
}
