import { PassThrough, type Writable } from 'node:stream';
import type { DataPaths, ServerConfig } from '../config/server-config.js';
import { HOST_ADMIN } from '../contracts/command-io.js';
import type { Logger } from '../log/logger.js';
import { parseRecipient } from '../platform-backup/backup-crypto.js';
import { uploadFile } from '../platform-backup/backup-destination.js';
import { PlatformBackupErrors } from '../platform-backup/platform-backup-errors.js';
import { type BackupSchedule, PlatformBackupScheduler, scheduleFiles } from '../platform-backup/platform-backup-schedule.js';
import { writeBackup } from '../platform-backup/write-backup.js';
import { DockerClient } from '../runtime/docker-client.js';
import type { State } from '../state/state.js';
import type { ControlPlane } from './control-plane.js';

/**
 * The daemon's scheduled platform backups (`paas admin backup schedule`): each run makes the same
 * archive `backup create` makes, with the add-ons' own verified backups run as commands of this
 * control plane, then the off-site copy.
 */
export function platformBackupScheduler(
  config: ServerConfig,
  paths: DataPaths,
  state: State,
  cp: ControlPlane,
  log: Logger,
): PlatformBackupScheduler {
  const docker = new DockerClient(config.dockerHost ? undefined : { socketPath: '/var/run/docker.sock' });
  const plog = log.child({ module: 'platform-backup' });
  return new PlatformBackupScheduler({
    files: scheduleFiles(config.dataDir),
    log: plog,
    run: (s) =>
      backupOnce(s).catch((e: Error) => {
        cp.notifications.notify({ event: 'backup.failed', message: `scheduled platform backup failed: ${e.message}` });
        throw e;
      }),
  });
  async function backupOnce(s: BackupSchedule): Promise<{ file: string; offsite: string | null }> {
    const command = (words: string[], out: Writable) => {
      const stdin = new PassThrough();
      stdin.end();
      return cp.host.run(words, HOST_ADMIN, { stdin, stdout: out, stderr: out, signal: new AbortController().signal, pty: null });
    };
    const w = await writeBackup(
      { paths, state, docker, command, progress: (step) => plog.info({ step }, 'platform backup progress'), log: plog },
      s.to,
      { withImages: s.withImages, withAddons: s.withAddons, recipient: s.encryptTo ? parseRecipient(s.encryptTo) : null },
      { endpoint: undefined, region: undefined },
    );
    if (!s.offsite) return { file: w.where, offsite: null };
    try {
      return { file: w.where, offsite: await uploadFile(w.where, s.offsite.url, s.offsite) };
    } catch (e) {
      throw PlatformBackupErrors.offsite(`archive ${w.where} written, but its off-site copy failed: ${(e as Error).message}`, e);
    }
  }
}
