import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { PassThrough, Transform, type Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import tar from 'tar-stream';
import { DIRECTORY, ENTRY_NAME, MANIFEST_NAME, type Manifest, type ManifestEntry } from './backup-archive-writer.js';
import { decryptStream, ENCRYPTED_MAGIC, type Identity } from './backup-crypto.js';
import { PlatformBackupErrors as E } from './platform-backup-errors.js';

export type ArchiveKind = 'encrypted' | 'plain' | 'unknown';

/** What the first bytes of `file` say it is. */
export function archiveKind(file: string): ArchiveKind {
  const fd = fs.openSync(file, 'r');
  try {
    const head = Buffer.alloc(ENCRYPTED_MAGIC.length);
    const n = fs.readSync(fd, head, 0, head.length, 0);
    if (n === head.length && head.equals(ENCRYPTED_MAGIC)) return 'encrypted';
    if (n >= 2 && head[0] === 0x1f && head[1] === 0x8b) return 'plain';
    return 'unknown';
  } finally {
    fs.closeSync(fd);
  }
}

/** Gives a restored file or folder its permissions and, when restoring as root, its owner back. */
function keepOwner(file: string, h: { mode?: number; uid?: number; gid?: number }): void {
  if (h.mode !== undefined) fs.chmodSync(file, h.mode & 0o7777);
  if (process.getuid?.() === 0 && h.uid !== undefined && h.gid !== undefined) fs.chownSync(file, h.uid, h.gid);
}

/**
 * Unpacks an archive into `staging` (a new, empty folder the caller removes on failure) and checks
 * it whole: every entry's size and sha256 against the manifest, no entry missing or extra, the
 * manifest present (a cut archive has none). Nothing outside `staging` is written.
 */
export async function extractArchive(file: string, staging: string, identity: Identity | null): Promise<Manifest> {
  const kind = archiveKind(file);
  if (kind === 'unknown') throw E.corrupt(`${file} is not a paas backup (neither gzip nor an encrypted paas archive)`);
  if (kind === 'encrypted' && !identity)
    throw E.decrypt(`${file} is encrypted: give the private key it was encrypted to with --identity FILE`);
  const seen = new Map<string, ManifestEntry>();
  let manifest: Manifest | null = null;
  const extract = tar.extract();
  extract.on('entry', (header, stream, next) => {
    // the extract's own error ends the pipeline; the entry stream it is destroyed with must not throw again
    stream.on('error', () => undefined);
    const fail = (m: string) => {
      stream.resume();
      extract.destroy(E.corrupt(m));
    };
    if (manifest) return fail('entries after the manifest');
    const name = header.name.replace(/\/$/, '');
    if ((header.type !== 'file' && header.type !== 'directory') || !ENTRY_NAME.test(name) || seen.has(name))
      return fail(`unexpected entry '${header.name}' (${header.type})`);
    if (header.type === 'directory') {
      stream.resume();
      const dir = path.join(staging, name);
      fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
      keepOwner(dir, header);
      seen.set(name, { name, size: 0, sha256: DIRECTORY });
      return next();
    }
    if (header.name === MANIFEST_NAME) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: unknown) => {
        chunks.push(c as Buffer);
      });
      stream.on('end', () => {
        try {
          manifest = JSON.parse(Buffer.concat(chunks).toString()) as Manifest;
        } catch {
          return fail('the manifest is damaged');
        }
        next();
      });
      return;
    }
    const target = path.join(staging, header.name);
    fs.mkdirSync(path.dirname(target), { recursive: true, mode: 0o700 });
    const hash = createHash('sha256');
    let size = 0;
    const tap = new Transform({
      transform(chunk: Buffer, _e, cb) {
        hash.update(chunk);
        size += chunk.length;
        cb(null, chunk);
      },
    });
    pipeline(stream, tap, fs.createWriteStream(target, { flags: 'wx', mode: 0o600 }))
      .then(() => {
        keepOwner(target, header);
        seen.set(header.name, { name: header.name, size, sha256: hash.digest('hex') });
        next();
      })
      .catch((e: Error) => extract.destroy(e));
  });
  const opened = kind === 'encrypted' ? decryptStream(identity!) : new PassThrough();
  try {
    await pipeline(fs.createReadStream(file), opened, createGunzip(), extract as unknown as Writable);
  } catch (e) {
    const err = e as Error & { code?: string };
    if (err.name === 'AppError') throw e;
    throw E.corrupt(`the archive is damaged or truncated (${err.message}); nothing was restored`, e);
  }
  if (!manifest) throw E.corrupt('the archive is truncated: it ends before its manifest; nothing was restored');
  const m = manifest as Manifest;
  if (m.format !== 1 || !Array.isArray(m.entries)) throw E.corrupt(`unknown backup format ${String(m.format)}`);
  if (m.entries.length !== seen.size) throw E.corrupt(`the archive holds ${seen.size} entries, its manifest ${m.entries.length}`);
  for (const want of m.entries) {
    const got = seen.get(want.name);
    if (!got) throw E.corrupt(`entry ${want.name} of the manifest is missing`);
    if (got.size !== want.size || got.sha256 !== want.sha256)
      throw E.corrupt(`entry ${want.name} does not match its sha256 in the manifest (damaged archive); nothing was restored`);
  }
  return m;
}
