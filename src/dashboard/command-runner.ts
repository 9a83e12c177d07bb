import { Readable, Writable } from 'node:stream';
import type { CommandIo, Identity } from '../contracts/command-io.js';

/** What the dashboard needs of the CommandHost. */
export interface CommandRunnerHost {
  run(words: string[], identity: Identity, io: CommandIo): Promise<number>;
}

export interface CommandOutput {
  exitCode: number;
  stdout: string;
  stderr: string;
}

/** The most output one /api/run answer carries per stream; past it the text ends with a marker. */
const MAX_OUTPUT_BYTES = 2 * 1024 * 1024;

/** A Writable that keeps what it is given up to `max` bytes. */
class CappedText extends Writable {
  private readonly chunks: Buffer[] = [];
  private size = 0;
  private cut = false;

  constructor(private readonly max: number) {
    super();
  }

  override _write(chunk: Buffer | string, _enc: BufferEncoding, cb: () => void): void {
    const b = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk);
    const room = this.max - this.size;
    if (room > 0) {
      this.chunks.push(room >= b.length ? b : b.subarray(0, room));
      this.size += Math.min(room, b.length);
    }
    if (b.length > room) this.cut = true;
    cb();
  }

  text(): string {
    return Buffer.concat(this.chunks).toString('utf8') + (this.cut ? '\n[output cut: use the CLI for all of it]\n' : '');
  }
}

/** A Writable that hands on each complete line (for streams: the log tail). */
export class LineSplitter extends Writable {
  private rest = '';

  constructor(private readonly onLine: (line: string) => void) {
    super();
  }

  override _write(chunk: Buffer | string, _enc: BufferEncoding, cb: () => void): void {
    const text = this.rest + chunk.toString();
    const lines = text.split('\n');
    this.rest = lines.pop() ?? '';
    if (this.rest.length > 64 * 1024) {
      lines.push(this.rest);
      this.rest = '';
    }
    for (const l of lines) this.onLine(l.replace(/\r$/, ''));
    cb();
  }

  /** Hands on the last line without a newline, if any. */
  flushRest(): void {
    if (this.rest !== '') this.onLine(this.rest);
    this.rest = '';
  }
}

/**
 * Runs commands for the dashboard through the same CommandHost as SSH (same checks, same audit
 * log), with no stdin and no terminal.
 */
export class CommandRunner {
  constructor(private readonly host: CommandRunnerHost) {}

  async capture(words: string[], identity: Identity, signal: AbortSignal): Promise<CommandOutput> {
    const stdout = new CappedText(MAX_OUTPUT_BYTES);
    const stderr = new CappedText(64 * 1024);
    const exitCode = await this.host.run(words, identity, { stdin: Readable.from([]), stdout, stderr, signal, pty: null });
    return { exitCode, stdout: stdout.text(), stderr: stderr.text() };
  }

  /** Runs a following command (`logs app -t`), handing on every output line until it ends or `signal` aborts. */
  async follow(words: string[], identity: Identity, signal: AbortSignal, onLine: (line: string) => void): Promise<number> {
    const out = new LineSplitter(onLine);
    const code = await this.host.run(words, identity, { stdin: Readable.from([]), stdout: out, stderr: out, signal, pty: null });
    out.flushRest();
    return code;
  }
}
