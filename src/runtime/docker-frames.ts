/**
 * Docker's multiplexed stdout/stderr framing (non-TTY logs and attach): each frame is an 8-byte
 * header [stream, 0, 0, 0, size uint32 BE] followed by `size` bytes. A stream that does not
 * start with a valid header (a TTY container) is passed through as stdout.
 */
export type StdStream = 'stdout' | 'stderr';

export class FrameParser {
  private buf: Buffer = Buffer.alloc(0);
  private raw = false;

  constructor(private readonly onData: (stream: StdStream, data: Buffer) => void) {}

  push(chunk: Buffer): void {
    if (this.raw) {
      this.onData('stdout', chunk);
      return;
    }
    this.buf = this.buf.length ? Buffer.concat([this.buf, chunk]) : chunk;
    while (this.buf.length >= 8) {
      const type = this.buf[0]!;
      if (type > 2 || this.buf[1] !== 0 || this.buf[2] !== 0 || this.buf[3] !== 0) {
        this.raw = true;
        const rest = this.buf;
        this.buf = Buffer.alloc(0);
        this.onData('stdout', rest);
        return;
      }
      const size = this.buf.readUInt32BE(4);
      if (this.buf.length < 8 + size) return;
      const data = this.buf.subarray(8, 8 + size);
      this.buf = this.buf.subarray(8 + size);
      this.onData(type === 2 ? 'stderr' : 'stdout', data);
    }
  }

  /** Whatever is left (a truncated frame, or a short raw stream) is flushed as stdout. */
  end(): void {
    if (this.buf.length) this.onData('stdout', this.buf);
    this.buf = Buffer.alloc(0);
  }
}

/** Splits chunks into lines per stream; a partial last line is kept until more data or `end()`. */
export class LineSplitter {
  private partial: Record<StdStream, string> = { stdout: '', stderr: '' };

  constructor(private readonly onLine: (stream: StdStream, line: string) => void) {}

  push(stream: StdStream, data: Buffer | string): void {
    const text = this.partial[stream] + (typeof data === 'string' ? data : data.toString('utf8'));
    const lines = text.split('\n');
    this.partial[stream] = lines.pop() ?? '';
    for (const l of lines) this.onLine(stream, l.endsWith('\r') ? l.slice(0, -1) : l);
  }

  end(): void {
    for (const s of ['stdout', 'stderr'] as const) {
      if (this.partial[s]) this.onLine(s, this.partial[s]);
      this.partial[s] = '';
    }
  }
}

/** Demuxes a complete logs response into lines. */
export function demuxToLines(buf: Buffer): Array<{ stream: StdStream; line: string }> {
  const out: Array<{ stream: StdStream; line: string }> = [];
  const lines = new LineSplitter((stream, line) => out.push({ stream, line }));
  const frames = new FrameParser((stream, data) => lines.push(stream, data));
  frames.push(buf);
  frames.end();
  lines.end();
  return out;
}
