import fs from 'node:fs';
import path from 'node:path';
import { PassThrough, type Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { PlatformBackupErrors as E } from './platform-backup-errors.js';

const S3_URL = /^s3:\/\/([a-z0-9][a-z0-9.-]{1,61}[a-z0-9])(?:\/(.*))?$/;

export interface S3Options {
  /** http(s)://host[:port] of an S3-compatible store; AWS when unset */
  endpoint: string | undefined;
  region: string | undefined;
  /** stored with a schedule; otherwise AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY */
  credentials?: { accessKeyId: string; secretAccessKey: string };
}

/** The S3 credentials of the environment (AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY), or a usage error. */
export function envCredentials(): { accessKeyId: string; secretAccessKey: string } {
  const accessKeyId = process.env.AWS_ACCESS_KEY_ID;
  const secretAccessKey = process.env.AWS_SECRET_ACCESS_KEY;
  if (!accessKeyId || !secretAccessKey) throw E.usage('s3:// needs the credentials in AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY');
  return { accessKeyId, secretAccessKey };
}

/** A file name for a new archive: `paas-backup-<UTC stamp>.tar.gz` (`.enc` when encrypted). */
export function archiveName(at: Date, encrypted: boolean): string {
  return `paas-backup-${at.toISOString().replace(/[:.]/g, '-')}.tar.gz${encrypted ? '.enc' : ''}`;
}

export function parseS3(url: string): { bucket: string; key: string } {
  const m = S3_URL.exec(url);
  if (!m) throw E.usage(`invalid destination '${url}': use s3://bucket/prefix`);
  return { bucket: m[1]!, key: (m[2] ?? '').replace(/^\/+/, '') };
}

async function s3Client(o: S3Options) {
  const credentials = o.credentials ?? envCredentials();
  if (o.endpoint !== undefined && !/^https?:\/\/[^\s/]+/.test(o.endpoint))
    throw E.usage(`invalid --endpoint '${o.endpoint}': use http(s)://host[:port]`);
  const { S3Client } = await import('@aws-sdk/client-s3');
  return new S3Client({
    endpoint: o.endpoint || undefined,
    region: o.region ?? process.env.AWS_REGION ?? 'us-east-1',
    forcePathStyle: true,
    credentials,
  });
}

/** Copies a written archive to `s3://bucket/prefix/<its name>` (streamed in parts); resolves to its URL. */
export async function uploadFile(file: string, to: string, s3: S3Options): Promise<string> {
  const dest = await openDestination(to, path.basename(file), s3);
  try {
    await pipeline(fs.createReadStream(file), dest.out);
    await dest.commit();
  } catch (e) {
    await dest.discard();
    throw e;
  }
  return dest.where;
}

/**
 * Where `create` writes: a local file (written as `<file>.partial`, mode 600, renamed when whole;
 * a directory gets a new dated name inside it), or an S3 object uploaded in parts as it is made.
 */
export async function openDestination(
  to: string,
  name: string,
  s3: S3Options,
): Promise<{ out: Writable; where: string; commit(): Promise<void>; discard(): Promise<void> }> {
  if (to.startsWith('s3://')) {
    const { bucket, key } = parseS3(to);
    const objectKey = key === '' || key.endsWith('/') ? `${key}${name}` : `${key}/${name}`;
    const client = await s3Client(s3);
    const body = new PassThrough();
    const { Upload } = await import('@aws-sdk/lib-storage');
    const upload = new Upload({ client, params: { Bucket: bucket, Key: objectKey, Body: body } });
    const done = upload.done();
    done.catch(() => undefined);
    return {
      out: body,
      where: `s3://${bucket}/${objectKey}`,
      async commit() {
        try {
          await done;
        } catch (e) {
          throw E.offsite(`the upload to s3://${bucket}/${objectKey} failed: ${(e as Error).message}`, e);
        } finally {
          client.destroy();
        }
      },
      async discard() {
        await upload.abort().catch(() => undefined);
        client.destroy();
      },
    };
  }
  const target = fs.existsSync(to) && fs.statSync(to).isDirectory() ? path.join(to, name) : path.resolve(to);
  if (fs.existsSync(target)) throw E.usage(`${target} already exists; give a new file name or a directory`);
  if (!fs.existsSync(path.dirname(target))) throw E.usage(`the folder ${path.dirname(target)} does not exist`);
  const partial = `${target}.partial`;
  const out = fs.createWriteStream(partial, { flags: 'w', mode: 0o600 });
  return {
    out,
    where: target,
    async commit() {
      const fd = fs.openSync(partial, 'r');
      fs.fsyncSync(fd);
      fs.closeSync(fd);
      fs.renameSync(partial, target);
    },
    async discard() {
      // the file is opened asynchronously: removed once the stream has closed
      await new Promise<void>((resolve) => {
        if (out.closed) return resolve();
        out.once('close', () => resolve());
        out.destroy();
      });
      fs.rmSync(partial, { force: true });
    },
  };
}

/** A local copy of an archive: the file itself, or an S3 object downloaded into `dir`. */
export async function fetchArchive(from: string, dir: string, s3: S3Options): Promise<string> {
  if (!from.startsWith('s3://')) return path.resolve(from);
  const { bucket, key } = parseS3(from);
  const client = await s3Client(s3);
  try {
    const { GetObjectCommand } = await import('@aws-sdk/client-s3');
    const r = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    const file = path.join(dir, path.basename(key) || 'archive');
    await pipeline(r.Body as NodeJS.ReadableStream, fs.createWriteStream(file, { mode: 0o600 }));
    return file;
  } catch (e) {
    if ((e as Error).name === 'AppError') throw e;
    throw E.offsite(`cannot download ${from}: ${(e as Error).message}`, e);
  } finally {
    client.destroy();
  }
}
