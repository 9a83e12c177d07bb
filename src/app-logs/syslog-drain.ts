import net from 'node:net';
import tls from 'node:tls';
import type { Logger } from '../log/logger.js';
import type { DrainStats, LogDrain } from './log-drain.js';
import { DrainQueue } from './drain-queue.js';
import type { DrainTarget } from './drain-url.js';
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
 * Ships an app's lines to a syslog receiver over TCP or TLS, RFC 5424 messages framed by octet
 * counting (RFC 5425/6587). One connection, opened when there is something to send; writes stop
 * while the socket's buffer is full (a receiver that does not read), and reconnects back off up
 * to 30 s. Nothing here waits on the app: `offer` only queues.
 */
export class SyslogDrain implements LogDrain {
  private readonly queue: DrainQueue;
  private socket: net.Socket | null = null;
  private connecting = false;
  private blocked = false;
  private closed = false;
  private retry: NodeJS.Timeout | null = null;
  private backoffMs = 500;
  private sent = 0;
  private lastError: string | null = null;

  constructor(
    private readonly app: string,
    private readonly target: DrainTarget,
    private readonly opts: DrainOptions,
    private readonly log: Logger,
  ) {
    this.queue = new DrainQueue(opts.capacity);
  }

  offer(records: LogRecord[]): void {
    if (this.closed) return;
    for (const r of records) this.queue.push(octetFrame(syslogMessage(this.app, this.opts.hostname, r)));
    this.pump();
  }

  stats(): DrainStats {
    return { url: this.target.url, sent: this.sent, dropped: this.queue.dropped, queued: this.queue.length, lastError: this.lastError };
  }

  close(): void {
    this.closed = true;
    if (this.retry) clearTimeout(this.retry);
    this.socket?.destroy();
    this.socket = null;
  }

  private pump(): void {
    if (this.closed || this.blocked || !this.queue.length) return;
    const s = this.socket;
    if (!s) {
      this.connect();
      return;
    }
    for (let b = this.queue.shift(); b; b = this.queue.shift()) {
      this.sent++;
      if (!s.write(b)) {
        this.blocked = true;
        s.once('drain', () => {
          this.blocked = false;
          this.pump();
        });
        return;
      }
    }
  }

  private connect(): void {
    if (this.connecting || this.retry || this.closed) return;
    this.connecting = true;
    const { host, port, kind } = this.target;
    const s =
      kind === 'syslog+tls' ? tls.connect({ host, port, ...(net.isIP(host) ? {} : { servername: host }) }) : net.connect({ host, port });
    s.setTimeout(this.opts.timeoutMs, () => s.destroy(new Error(`no connection within ${this.opts.timeoutMs} ms`)));
    s.once(kind === 'syslog+tls' ? 'secureConnect' : 'connect', () => {
      s.setTimeout(0);
      this.connecting = false;
      this.socket = s;
      this.backoffMs = 500;
      this.lastError = null;
      this.pump();
    });
    s.on('data', () => undefined); // a receiver has nothing to say; keep its bytes from piling up
    s.on('error', (err) => {
      if (this.lastError !== err.message) this.log.warn({ app: this.app, drain: this.target.host, err: err.message }, 'log drain failed');
      this.lastError = err.message;
    });
    s.on('close', () => {
      if (this.socket === s) this.socket = null;
      this.connecting = false;
      this.blocked = false;
      if (this.closed) return;
      this.retry = setTimeout(() => {
        this.retry = null;
        this.pump();
      }, this.backoffMs);
      this.retry.unref();
      this.backoffMs = Math.min(this.backoffMs * 2, 30_000);
    });
  }
}
