import { createHash } from 'node:crypto';
import fs from 'node:fs';
import { PassThrough, Readable, Transform, type Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import tar from 'tar-stream';
import { encryptStream, type Recipient } from './backup-crypto.js';

/** One archive entry as the manifest lists it. */
export interface ManifestEntry {
  name: string;
  size: number;
  sha256: string;
}

export interface Manifest {
  format: 1;
  entries: ManifestEntry[];
}

export const MANIFEST_NAME = 'manifest.json';
export const ENTRY_NAME = /^(?!\/)(?!.*(?:^|\/)\.\.(?:\/|$))[A-Za-z0-9._@+=,:/-]{1,400}$/;

/**
 * Writes a platform backup as one stream: tar (tar-stream) → gzip → (AES-256-GCM records when
 * encrypted) → `out`. Every entry is hashed while it streams (nothing is held in memory); the
 * manifest with each entry's size and sha256 is the last entry, so a cut archive has none.
 */
export class BackupArchiveWriter {
  private readonly pack = tar.pack();
  private readonly entries: ManifestEntry[] = [];
  private readonly done: Promise<void>;
  bytesOut = 0;

  constructor(out: Writable, recipient: Recipient | null) {
    const count = new Transform({
      transform: (chunk: Buffer, _e, cb) => {
        this.bytesOut += chunk.length;
        cb(null, chunk);
      },
    });
    const sealed = recipient ? encryptStream(recipient) : new PassThrough();
    this.done = pipeline(this.pack as unknown as Readable, createGzip({ level: 6 }), sealed, count, out);
    // a failure of the sink surfaces at `finish`; never as an unhandled rejection meanwhile
    this.done.catch(() => undefined);
  }

  /** Adds `size` bytes of `input` as `name`. */
  async addStream(name: string, input: Readable, size: number, mode = 0o600): Promise<void> {
    if (!ENTRY_NAME.test(name)) throw new Error(`bad archive entry name ${name}`);
    const hash = createHash('sha256');
    const tap = new Transform({
      transform(chunk: Buffer, _e, cb) {
        hash.update(chunk);
        cb(null, chunk);
      },
    });
    const entry = this.pack.entry({ name, size, mode, mtime: new Date() });
    await pipeline(input, tap, entry);
    this.entries.push({ name, size, sha256: hash.digest('hex') });
  }

  /** Adds a file (its size at the time it is opened; a file that shrinks meanwhile fails the backup). */
  async addFile(name: string, file: string): Promise<number> {
    const st = fs.statSync(file);
    const rs = st.size === 0 ? fs.createReadStream(file, { end: -1 }) : fs.createReadStream(file, { start: 0, end: st.size - 1 });
    await this.addStream(name, rs, st.size, st.mode & 0o777);
    return st.size;
  }

  async addBuffer(name: string, data: Buffer): Promise<void> {
    await this.addStream(name, Readable.from([data]), data.length);
  }

  /** Writes the manifest, ends the archive and waits until `out` has every byte. */
  async finish(): Promise<Manifest> {
    const manifest: Manifest = { format: 1, entries: this.entries };
    const body = Buffer.from(JSON.stringify(manifest));
    await new Promise<void>((resolve, reject) =>
      this.pack.entry({ name: MANIFEST_NAME, size: body.length }, body, (e) => (e ? reject(e) : resolve())),
    );
    this.pack.finalize();
    await this.done;
    return manifest;
  }

  abort(err: Error): void {
    this.pack.destroy(err);
  }
}
