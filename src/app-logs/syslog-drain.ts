import net from 'node:net';
import tls from 'node:tls';
import { QueuedDrain } from './queued-drain.js';

/**
 * Ships an app's lines to a syslog receiver over TCP or TLS, RFC 5424 messages framed by octet
 * counting (RFC 5425/6587). One connection, opened when there is something to send; writes stop
 * while the socket's buffer is full (a receiver that does not read), and a connection that is
 * refused, times out or breaks is retried with backoff.
 */
export class SyslogDrain extends QueuedDrain {
  private socket: net.Socket | null = null;
  private connecting = false;
  private blocked = false;

  protected shutdown(): void {
    this.socket?.destroy();
    this.socket = null;
  }

  protected pump(): void {
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
      this.succeeded();
      this.pump();
    });
    s.on('data', () => undefined); // a receiver has nothing to say; keep its bytes from piling up
    s.on('error', (err) => this.failed(err.message));
    s.on('close', () => {
      if (this.socket === s) this.socket = null;
      this.connecting = false;
      this.blocked = false;
      this.retryLater();
    });
  }
}
