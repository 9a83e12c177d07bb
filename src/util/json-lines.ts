import { StringDecoder } from 'node:string_decoder';

/** One message of a JSON-lines protocol: the value as JSON and a newline. */
export function jsonLine(value: unknown): string {
  return `${JSON.stringify(value)}\n`;
}

/**
 * Splits a stream's chunks into '\n'-terminated lines, keeping the unterminated tail until the
 * next chunk completes it. Buffers are decoded as UTF-8 across chunk boundaries, so a character
 * split between two chunks stays whole.
 */
export class LineSplitter {
  private tail = '';
  private readonly decoder = new StringDecoder('utf8');

  /** The lines `chunk` completes, without their '\n' (a '\r' before it is kept). */
  push(chunk: string | Buffer): string[] {
    const text = this.tail + (typeof chunk === 'string' ? chunk : this.decoder.write(chunk));
    const lines = text.split('\n');
    this.tail = lines.pop() ?? '';
    return lines;
  }

  /** What is left after the last '\n' (at the end of the stream), and forgets it. */
  flush(): string {
    const rest = this.tail + this.decoder.end();
    this.tail = '';
    return rest;
  }
}
