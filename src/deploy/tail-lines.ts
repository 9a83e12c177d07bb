import { Writable } from 'node:stream';

/** Passes everything written on to `out` and keeps the last `max` lines (a failed task's output, repeated in its error). */
export class TailLines extends Writable {
  private lines: string[] = [];
  private partial = '';

  constructor(
    private readonly out: NodeJS.WritableStream,
    private readonly max: number,
  ) {
    super();
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, cb: () => void): void {
    this.out.write(chunk);
    const parts = (this.partial + chunk.toString('utf8')).split('\n');
    this.partial = parts.pop() ?? '';
    this.lines.push(...parts);
    if (this.lines.length > this.max) this.lines = this.lines.slice(-this.max);
    cb();
  }

  text(): string {
    return [...this.lines, ...(this.partial ? [this.partial] : [])].slice(-this.max).join('\n');
  }
}
