import type { Logger } from '../log/logger.js';
import { DrainQueue } from './drain-queue.js';
import type { DrainTarget } from './drain-url.js';
import type { DrainStats, LogDrain } from './log-drain.js';
import type { LogRecord } from './log-record.js';
import { octetFrame, syslogMessage } from './syslog-frame.js';

export interface DrainOptions {
  /** lines held while the receiver is slow or away; past it new lines are dropped and counted */
  capacity: number;
  /** connecting (and the TLS handshake) or one HTTP request may take this long */
  timeoutMs: number;
  /** the HOSTNAME field of each message */
  hostname: string;
}

/**
 * What every drain shares: `offer` frames lines (RFC 5424, octet counted) into a bounded queue
 * and returns at once; a subclass's `pump` sends from it; a failure is logged once per distinct
 * error and the next attempt backs off from 0.5 s up to 30 s.
 */
export abstract class QueuedDrain implements LogDrain {
  protected readonly queue: DrainQueue;
  protected closed = false;
  protected retry: NodeJS.Timeout | null = null;
  protected sent = 0;
  /** lines taken from the queue and then lost (a batch the receiver refused) */
  protected lost = 0;
  private lastError: string | null = null;
  private backoffMs = 500;

  constructor(
    protected readonly app: string,
    protected readonly target: DrainTarget,
    protected readonly opts: DrainOptions,
    protected readonly log: Logger,
  ) {
    this.queue = new DrainQueue(opts.capacity);
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
      dropped: this.queue.dropped + this.lost,
      queued: this.queue.length,
      lastError: this.lastError,
    };
  }

  close(): void {
    this.closed = true;
    if (this.retry) clearTimeout(this.retry);
    this.shutdown();
  }

  /** Sends what the queue holds, as far as the receiver lets it. */
  protected abstract pump(): void;
  /** Lets go of connections and requests. */
  protected abstract shutdown(): void;

  protected succeeded(): void {
    this.backoffMs = 500;
    this.lastError = null;
  }

  protected failed(message: string): void {
    if (this.lastError !== message) this.log.warn({ app: this.app, drain: this.target.host, err: message }, 'log drain failed');
    this.lastError = message;
  }

  /** The next `pump` after the backoff. */
  protected retryLater(): void {
    if (this.closed || this.retry) return;
    this.retry = setTimeout(() => {
      this.retry = null;
      this.pump();
    }, this.backoffMs);
    this.retry.unref();
    this.backoffMs = Math.min(this.backoffMs * 2, 30_000);
  }
}
