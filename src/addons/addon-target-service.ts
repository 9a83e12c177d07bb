import fs from 'node:fs';
import path from 'node:path';
import type { S3Client } from '@aws-sdk/client-s3';
import type { AddonType } from './addon-type.js';
import type { AddonRow, AddonsRepository, BackupTarget } from '../state/addons-repository.js';
import { AddonErrors } from './addon-errors.js';
import type { AddonService } from './addon-service.js';

export interface AddonTargetDeps {
  addons: Pick<AddonsRepository, 'setTarget'>;
  service: Pick<AddonService, 'get'>;
}

const S3_URL = /^s3:\/\/([a-z0-9][a-z0-9.-]{1,61}[a-z0-9])(?:\/(.*))?$/;

function parseS3Url(url: string): { bucket: string; prefix: string } {
  const m = S3_URL.exec(url);
  if (!m) throw AddonErrors.target(`invalid backup target '${url}': use s3://bucket/prefix`);
  return { bucket: m[1]!, prefix: (m[2] ?? '').replace(/\/+$/, '') };
}

/** The AWS SDK is loaded at the first backup target used (about 23 MB a control plane without one never spends). */
const s3Sdk = () => import('@aws-sdk/client-s3');

async function client(t: BackupTarget): Promise<S3Client> {
  const { S3Client } = await s3Sdk();
  return new S3Client({
    endpoint: t.endpoint || undefined,
    region: t.region,
    forcePathStyle: true,
    credentials: { accessKeyId: t.accessKeyId, secretAccessKey: t.secretAccessKey },
  });
}

/** Off-site copies of backups to an S3-compatible store (AWS SDK v3; uploads streamed in parts). */
export class AddonTargetService {
  constructor(private readonly deps: AddonTargetDeps) {}

  /** Checks the bucket answers with these credentials, then stores the target. Returns it without secrets. */
  async set(
    type: AddonType,
    name: string,
    input: { url: string; endpoint: string | undefined; region: string | undefined; credentials: string },
    signal: AbortSignal,
  ): Promise<string> {
    this.deps.service.get(type, name);
    const { bucket } = parseS3Url(input.url);
    if (input.endpoint !== undefined && !/^https?:\/\/[^\s/]+/.test(input.endpoint))
      throw AddonErrors.target(`invalid --endpoint '${input.endpoint}': use http(s)://host[:port]`);
    const words = input.credentials.trim().split(/\s+/).filter(Boolean);
    if (words.length !== 2) throw AddonErrors.target('give the credentials on stdin as: ACCESS_KEY_ID SECRET_ACCESS_KEY');
    const target: BackupTarget = {
      url: input.url,
      endpoint: input.endpoint ?? '',
      region: input.region ?? 'us-east-1',
      accessKeyId: words[0]!,
      secretAccessKey: words[1]!,
    };
    const s3 = await client(target);
    try {
      const { HeadBucketCommand } = await s3Sdk();
      await s3.send(new HeadBucketCommand({ Bucket: bucket }), { abortSignal: signal });
    } catch (e) {
      const err = e as { name?: string; message?: string; $metadata?: { httpStatusCode?: number } };
      throw AddonErrors.target(
        `bucket ${bucket} did not answer at ${target.endpoint || 'AWS'}: ${err.name ?? 'error'} ${err.$metadata?.httpStatusCode ?? ''} ${err.message ?? ''}`.trim(),
        e,
      );
    } finally {
      s3.destroy();
    }
    this.deps.addons.setTarget(type.name, name, target);
    return this.describeTarget(target);
  }

  remove(type: AddonType, name: string): void {
    this.deps.service.get(type, name);
    this.deps.addons.setTarget(type.name, name, null);
  }

  describe(type: AddonType, name: string): string | null {
    const t = this.deps.service.get(type, name).target;
    return t ? this.describeTarget(t) : null;
  }

  private describeTarget(t: BackupTarget): string {
    return `${t.url}${t.endpoint ? ` at ${t.endpoint}` : ''} (key ${t.accessKeyId})`;
  }

  /** Uploads one backup file (streamed); resolves to its s3:// URL, or null without a target. */
  async upload(row: AddonRow, file: string): Promise<string | null> {
    const t = row.target;
    if (!t) return null;
    const { bucket, prefix } = parseS3Url(t.url);
    const key = `${prefix ? `${prefix}/` : ''}${path.basename(file)}`;
    const s3 = await client(t);
    try {
      const { Upload } = await import('@aws-sdk/lib-storage');
      await new Upload({ client: s3, params: { Bucket: bucket, Key: key, Body: fs.createReadStream(file) } }).done();
    } finally {
      s3.destroy();
    }
    return `s3://${bucket}/${key}`;
  }
}
