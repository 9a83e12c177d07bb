import { createHash } from 'node:crypto';
import fs from 'node:fs';
import { PassThrough, Readable, Transform, type Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import tar from 'tar-stream';
import { encryptStream, type Recipient } from './backup-crypto.js';

/** One archive entry as the manifest lists it (a folder: size 0, sha256 `directory`). */
export interface ManifestEntry {
  name: string;
  size: number;
  sha256: string;
}

export const DIRECTORY = 'directory';

export interface Manifest {
  format: 1;
  entries: ManifestEntry[];
}

export const MANIFEST_NAME = 'manifest.json';
/** A relative path with no `..` segment and no control characters (any other file name a folder may hold). */
export const ENTRY_NAME = /^(?!\/)(?!.*(?:^|\/)\.\.(?:\/|$))[^\x00-\x1f\x7f]{1,4000}$/;

/** What a file or folder keeps through a backup: permissions and owner (storage used by a container's user). */
export interface EntryOwner {
  mode: number;
  uid: number;
  gid: number;
}

const ownerOf = (st: fs.Stats): EntryOwner => ({ mode: st.mode & 0o7777, uid: st.uid, gid: st.gid });

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
  async addStream(name: string, input: Readable, size: number, owner: EntryOwner = { mode: 0o600, uid: 0, gid: 0 }): Promise<void> {
    if (!ENTRY_NAME.test(name)) throw new Error(`bad archive entry name ${name}`);
    const hash = createHash('sha256');
    const tap = new Transform({
      transform(chunk: Buffer, _e, cb) {
        hash.update(chunk);
        cb(null, chunk);
      },
    });
    const entry = this.pack.entry({ name, size, ...owner, mtime: new Date() });
    await pipeline(input, tap, entry);
    this.entries.push({ name, size, sha256: hash.digest('hex') });
  }

  /** Adds a file (its size at the time it is opened; a file that shrinks meanwhile fails the backup). */
  async addFile(name: string, file: string): Promise<number> {
    const st = fs.statSync(file);
    const rs = st.size === 0 ? fs.createReadStream(file, { end: -1 }) : fs.createReadStream(file, { start: 0, end: st.size - 1 });
    await this.addStream(name, rs, st.size, ownerOf(st));
    return st.size;
  }

  /** Adds a folder (its permissions and owner; the files in it are added on their own). */
  async addDir(name: string, dir: string): Promise<void> {
    if (!ENTRY_NAME.test(name)) throw new Error(`bad archive entry name ${name}`);
    const st = fs.statSync(dir);
    await new Promise<void>((resolve, reject) =>
      this.pack.entry({ name, type: 'directory', ...ownerOf(st), mtime: st.mtime }, (e) => (e ? reject(e) : resolve())),
    );
    this.entries.push({ name, size: 0, sha256: DIRECTORY });
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
