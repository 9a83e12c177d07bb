import fs from 'node:fs';
import path from 'node:path';
import { Writable } from 'node:stream';

const LIMIT = 512 * 1024;

/**
 * Passes a deploy's output through to the pusher and keeps a copy (the last 512 KiB) to store
 * with the release, so `releases:log` can show why a deploy failed after the terminal is gone.
 */
export class ReleaseLogRecorder extends Writable {
  private chunks: Buffer[] = [];
  private size = 0;

  constructor(private readonly target: Writable) {
    super();
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (err?: Error | null) => void): void {
    this.chunks.push(chunk);
    this.size += chunk.length;
    while (this.size > LIMIT && this.chunks.length > 1) this.size -= this.chunks.shift()!.length;
    if (this.target.write(chunk)) cb();
    else this.target.once('drain', () => cb());
  }

  save(file: string): void {
    fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
    fs.writeFileSync(file, Buffer.concat(this.chunks), { mode: 0o600 });
  }
}
