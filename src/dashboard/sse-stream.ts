import type { ServerResponse } from 'node:http';

/** How often an idle stream sends a comment, so proxies and browsers keep it open. */
const KEEPALIVE_MS = 25_000;

/**
 * A server-sent events stream on a raw response: `send(event, data)` writes one event (data split
 * into `data:` lines, so a line of output can never end an event early or forge another),
 * `close()` ends it. The caller's `signal` closes it too.
 */
export class SseStream {
  private closed = false;
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly res: ServerResponse,
    headers: Record<string, string>,
    signal: AbortSignal,
  ) {
    res.writeHead(200, {
      ...headers,
      'Content-Type': 'text/event-stream; charset=utf-8',
      'Cache-Control': 'no-store',
      'X-Accel-Buffering': 'no',
    });
    res.flushHeaders();
    this.timer = setInterval(() => this.comment(), KEEPALIVE_MS);
    this.timer.unref();
    const close = () => this.close();
    signal.addEventListener('abort', close, { once: true });
    res.once('close', () => {
      signal.removeEventListener('abort', close);
      this.close();
    });
  }

  get isClosed(): boolean {
    return this.closed;
  }

  send(event: string, data: string): void {
    if (this.closed) return;
    const lines = data.split(/\r\n|\r|\n/).map((l) => `data: ${l}`);
    this.res.write(`event: ${event}\n${lines.join('\n')}\n\n`);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.timer);
    this.res.end();
  }

  private comment(): void {
    if (!this.closed) this.res.write(': keep-alive\n\n');
  }
}
