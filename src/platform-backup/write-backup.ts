import { type CreateOptions, PlatformBackupCreate, type PlatformBackupCreateDeps } from './platform-backup-create.js';
import { archiveName, openDestination, type S3Options } from './backup-destination.js';

export interface WrittenBackup {
  where: string;
  entries: number;
  bytes: number;
}

/** One archive to `to` (a file, a folder or s3://…): written whole, or removed (aborted upload) on any failure. */
export async function writeBackup(deps: PlatformBackupCreateDeps, to: string, opts: CreateOptions, s3: S3Options): Promise<WrittenBackup> {
  const dest = await openDestination(to, archiveName(new Date(), opts.recipient !== null), s3);
  try {
    const r = await new PlatformBackupCreate(deps).write(dest.out, opts);
    await dest.commit();
    return { where: dest.where, ...r };
  } catch (e) {
    await dest.discard();
    throw e;
  }
}
