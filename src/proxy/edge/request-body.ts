import type http from 'node:http';

/**
 * Bytes of a request body read before an upstream connection is taken. A client sending its body
 * slowly then costs a buffer, not one of the target's connections (nginx buffers whole bodies, to
 * disk past a size; paas buffers this much in memory and streams the rest).
 */
export const BODY_BUFFER_BYTES = 64 * 1024;

/**
 * A client's request body on its way up: counted against the service's limit as it arrives
 * (chunked bodies exactly like Content-Length ones), the first BODY_BUFFER_BYTES (or all of a
 * smaller body) buffered before the upstream request is made, the rest streamed with back-pressure.
 */
export class RequestBody {
  private readonly client: http.IncomingMessage;
  private readonly limit: number;
  private readonly onTooLarge: () => void;
  private chunks: Buffer[] = [];
  private buffered = 0;
  private total = 0;
  private ended = false;
  private stopped = false;
  private sink: http.ClientRequest | null = null;
  private ready: (() => void) | null = null;

  constructor(client: http.IncomingMessage, limit: number, onTooLarge: () => void) {
    this.client = client;
    this.limit = limit;
    this.onTooLarge = onTooLarge;
    client.on('data', (chunk: Buffer) => this.onData(chunk));
    client.once('end', () => this.onEnd());
  }

  /** Calls `go` once the body is read whole or BODY_BUFFER_BYTES of it are buffered. */
  whenReady(go: () => void): void {
    if (this.stopped) return;
    if (this.ended || this.buffered >= BODY_BUFFER_BYTES) go();
    else this.ready = go;
  }

  /** The body's length when it was read whole before the upstream request (sent with Content-Length then); else null. */
  wholeLength(): number | null {
    return this.ended && this.sink === null ? this.total : null;
  }

  /** Sends what is buffered to `up`, then streams the rest into it. */
  pipeTo(up: http.ClientRequest): void {
    this.sink = up;
    for (const c of this.chunks) up.write(c);
    this.chunks = [];
    if (this.ended) up.end();
  }

  /** The exchange is over: nothing more is buffered or sent. */
  stop(): void {
    this.stopped = true;
    this.sink = null;
    this.chunks = [];
    this.ready = null;
  }

  private onData(chunk: Buffer): void {
    if (this.stopped) return;
    this.total += chunk.length;
    if (this.total > this.limit) {
      const sink = this.sink;
      this.stop();
      this.client.pause();
      if (sink !== null && !sink.destroyed) sink.destroy();
      this.onTooLarge();
      return;
    }
    const sink = this.sink;
    if (sink === null) {
      this.chunks.push(chunk);
      this.buffered += chunk.length;
      if (this.buffered >= BODY_BUFFER_BYTES) this.fire();
      return;
    }
    if (!sink.write(chunk)) {
      this.client.pause();
      sink.once('drain', () => this.client.resume());
    }
  }

  private onEnd(): void {
    this.ended = true;
    if (this.stopped) return;
    if (this.sink !== null) this.sink.end();
    else this.fire();
  }

  private fire(): void {
    const go = this.ready;
    this.ready = null;
    go?.();
  }
}
