import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip, createGzip } from 'node:zlib';
import { backupStamp } from './addon-naming.js';
import { type AddonType, lastLine, withFile } from './addon-type.js';
import { isAppError } from '../errors/app-error.js';
import type { Logger } from '../log/logger.js';
import type { AddonContainers } from './addon-containers.js';
import type { AddonRow, AddonsRepository, LastBackup } from '../state/addons-repository.js';
import { AddonErrors } from './addon-errors.js';
import type { AddonService } from './addon-service.js';

export interface AddonDataDeps {
  addons: Pick<AddonsRepository, 'setLastBackup' | 'get'>;
  service: Pick<AddonService, 'running' | 'get' | 'withLock' | 'waitReady'>;
  containers: Pick<AddonContainers, 'exec' | 'stop' | 'startExisting' | 'runTool'>;
  /** `<data-dir>/addons/<type>/<name>/backups` */
  backupsDir(type: string, name: string): string;
  /** after a verified backup: the off-site copy, when a target is set (resolves to its URL, or null) */
  offsite?(row: AddonRow, file: string): Promise<string | null>;
  log: Logger;
}

export interface BackupEntry {
  /** what `restore` takes */
  name: string;
  file: string;
  size: number;
  createdAt: string;
}

/**
 * A database's data in and out: export/import streamed over SSH, backups written under the data
 * dir and verified before they count, restores that check a dump before they touch the data.
 */
export class AddonDataService {
  constructor(private readonly deps: AddonDataDeps) {}

  /** The type's dump on `out` (pg_dump custom format; Redis: RDB), streamed with backpressure. */
  async exportTo(type: AddonType, name: string, out: Writable, signal: AbortSignal): Promise<void> {
    const row = await this.deps.service.running(type, name);
    const r = await this.deps.containers.exec(row.container, type.dump, { stdout: out, signal });
    if (r.exitCode !== 0) throw AddonErrors.dumpFailed(`${type.name} dump of ${name} failed (exit ${r.exitCode}): ${lastLine(r.stderr)}`);
  }

  /** Replaces the data with the dump on `stdin`: staged and checked first, so a bad dump changes nothing. */
  async importFrom(type: AddonType, name: string, stdin: Readable, out: Writable, signal: AbortSignal): Promise<string> {
    const row = await this.deps.service.running(type, name);
    return this.deps.service.withLock(type, name, `${type.name}:import`, out, signal, async () => {
      const staging = await this.stage(type, row, stdin, signal);
      return this.apply(type, row, staging, signal);
    });
  }

  /** Streams `input` to a staging file in the add-on's volume (never held in memory). */
  private async stage(type: AddonType, row: AddonRow, input: Readable, signal: AbortSignal): Promise<string> {
    const staging = `${type.volumePath}/paas-staging-${randomBytes(4).toString('hex')}`;
    const r = await this.deps.containers.exec(row.container, ['sh', '-c', 'umask 077; cat > "$1"', 'sh', staging], {
      stdin: input,
      signal,
    });
    if (r.exitCode !== 0) {
      await this.removeStaging(row, staging);
      throw AddonErrors.restoreFailed(`cannot stage the dump in ${row.container}: ${lastLine(r.stderr)}`);
    }
    return staging;
  }

  private async removeStaging(row: AddonRow, staging: string): Promise<void> {
    await this.deps.containers.exec(row.container, ['rm', '-f', staging]).catch(() => undefined);
  }

  /** Checks the staged dump, then restores it; returns what the check read (objects, keys). */
  private async apply(type: AddonType, row: AddonRow, staging: string, signal: AbortSignal): Promise<string> {
    const c = this.deps.containers;
    let moved = false;
    try {
      const v = await c.exec(row.container, withFile(type.verify, staging), { signal });
      if (v.exitCode !== 0)
        throw AddonErrors.badDump(`not a valid ${type.name} dump (${lastLine(v.stderr) || 'empty'}); ${row.name} was not changed`);
      const held = lastLine(v.output);
      if (type.restore.kind === 'exec') {
        const r = await c.exec(row.container, withFile(type.restore.argv, staging), { signal });
        if (r.exitCode !== 0) throw AddonErrors.restoreFailed(`restore into ${row.name} failed and was rolled back: ${lastLine(r.stderr)}`);
      } else {
        // the server writes its own file when it stops: stop first, then put the dump in its place
        await c.stop(row.container);
        const mv = await c.runTool(row.image, row.volume, type.volumePath, ['mv', '-f', staging, type.restore.path]);
        moved = mv.exitCode === 0;
        await c.startExisting(row.container);
        await this.deps.service.waitReady(type, row.container, signal);
        if (!moved) throw AddonErrors.restoreFailed(`cannot put the dump in place in ${row.name}: ${lastLine(mv.output)}`);
      }
      this.deps.log.info({ addon: row.name, type: type.name, held }, 'add-on data restored');
      return held;
    } finally {
      if (!moved) await this.removeStaging(row, staging);
    }
  }

  /**
   * Writes a compressed dump under the data dir, verifies it (listed back / RDB check) and only
   * then gives it its name. Any failure is recorded as the last backup (shown by `info`), logged
   * as an error and thrown: never silent.
   */
  async backup(
    type: AddonType,
    name: string,
    signal: AbortSignal,
    trigger: 'manual' | 'scheduled' | 'upgrade' = 'manual',
  ): Promise<BackupEntry & { held: string; offsite: string | null }> {
    const d = this.deps;
    const dir = d.backupsDir(type.name, name);
    const at = new Date();
    const base = `${backupStamp(at)}.${type.backup.ext}`;
    const file = path.join(dir, base);
    const partial = `${file}.partial`;
    try {
      const row = await d.service.running(type, name);
      // an upgrade holds the add-on's lock already
      const locked = <T>(fn: () => Promise<T>) =>
        trigger === 'upgrade' ? fn() : d.service.withLock(type, name, `${type.name}:backup`, null, signal, fn);
      return await locked(async () => {
        fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
        await this.dumpToFile(type, row, partial, signal);
        const held = await this.verifyFile(type, row, partial, signal);
        fs.renameSync(partial, file);
        const entry = this.entry(type, dir, base);
        let offsite: string | null = null;
        let offsiteError: string | undefined;
        if (d.offsite) {
          offsite = await d.offsite(row, file).catch((e: Error) => {
            offsiteError = `off-site copy failed: ${e.message}`;
            return null;
          });
        }
        const last: LastBackup = {
          at: at.toISOString(),
          ok: offsiteError === undefined,
          name: entry.name,
          ...(offsiteError ? { error: offsiteError } : {}),
        };
        d.addons.setLastBackup(type.name, name, last);
        if (offsiteError)
          d.log.error({ addon: name, type: type.name, backup: entry.name, err: offsiteError }, 'add-on backup not copied off-site');
        d.log.info(
          { addon: name, type: type.name, backup: entry.name, size: entry.size, held, trigger },
          'add-on backup written and verified',
        );
        if (offsiteError) throw AddonErrors.upload(`backup ${entry.name} written and verified, but the ${offsiteError}`);
        return { ...entry, held, offsite };
      });
    } catch (e) {
      fs.rmSync(partial, { force: true });
      // a missing add-on has no backup record; an off-site failure was recorded above
      if (isAppError(e) && (e.code === AddonErrors.notFound.code || e.code === AddonErrors.upload.code)) throw e;
      const error = (e as Error).message;
      d.addons.setLastBackup(type.name, name, { at: at.toISOString(), ok: false, error });
      d.log.error({ addon: name, type: type.name, trigger, err: error }, 'add-on backup FAILED');
      throw AddonErrors.backupFailed(`backup of ${type.name} service ${name} failed: ${error}`, e);
    }
  }

  private async dumpToFile(type: AddonType, row: AddonRow, partial: string, signal: AbortSignal): Promise<void> {
    const ws = fs.createWriteStream(partial, { flags: 'wx', mode: 0o600 });
    let r: { exitCode: number; stderr: string };
    if (type.backup.gzip) {
      const gz = createGzip();
      const written = pipeline(gz, ws);
      r = await this.deps.containers.exec(row.container, type.dump, { stdout: gz, endStdout: true, signal });
      await written;
    } else {
      r = await this.deps.containers.exec(row.container, type.dump, { stdout: ws, endStdout: true, signal });
    }
    if (r.exitCode !== 0) throw AddonErrors.dumpFailed(`the dump exited ${r.exitCode}: ${lastLine(r.stderr)}`);
    const fd = fs.openSync(partial, 'r');
    try {
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
  }

  /** Streams a written backup back into the container and runs the type's check on it. */
  private async verifyFile(type: AddonType, row: AddonRow, file: string, signal: AbortSignal): Promise<string> {
    const staging = await this.stage(type, row, this.readBackup(type, file), signal);
    try {
      const v = await this.deps.containers.exec(row.container, withFile(type.verify, staging), { signal });
      if (v.exitCode !== 0) throw AddonErrors.badDump(`the written dump does not verify: ${lastLine(v.stderr) || 'empty'}`);
      return lastLine(v.output);
    } finally {
      await this.removeStaging(row, staging);
    }
  }

  private readBackup(type: AddonType, file: string): Readable {
    const rs = fs.createReadStream(file);
    if (!type.backup.gzip) return rs;
    const gunzip = createGunzip();
    rs.on('error', (e) => gunzip.destroy(e));
    return rs.pipe(gunzip);
  }

  private entry(type: AddonType, dir: string, base: string): BackupEntry {
    const st = fs.statSync(path.join(dir, base));
    return { name: base.slice(0, -(type.backup.ext.length + 1)), file: base, size: st.size, createdAt: st.mtime.toISOString() };
  }

  /** The verified backups, oldest first (newest last); each `name` is what `restore` takes. */
  backups(type: AddonType, name: string): BackupEntry[] {
    this.deps.service.get(type, name);
    const dir = this.deps.backupsDir(type.name, name);
    if (!fs.existsSync(dir)) return [];
    return fs
      .readdirSync(dir)
      .filter((f) => f.endsWith(`.${type.backup.ext}`))
      .sort()
      .map((f) => this.entry(type, dir, f));
  }

  /** Restores a backup by name (as `backups` lists it): checked before the data is touched. */
  async restore(type: AddonType, name: string, backup: string, out: Writable, signal: AbortSignal): Promise<string> {
    const row = await this.deps.service.running(type, name);
    const found = this.backups(type, name).find((b) => b.name === backup || b.file === backup);
    if (!found) {
      const names = this.backups(type, name).map((b) => b.name);
      throw AddonErrors.backupNotFound(
        `no backup '${backup}' of ${type.name} service ${name}${names.length ? ` (newest: ${names.slice(-3).join(', ')}; see ${type.name}:backups ${name})` : ' (it has none)'}`,
      );
    }
    const file = path.join(this.deps.backupsDir(type.name, name), found.file);
    return this.deps.service.withLock(type, name, `${type.name}:restore`, out, signal, () => this.restoreFile(type, row, file, signal));
  }

  /** Restores a backup file into the add-on `row` describes (its container running); the caller holds the lock. */
  async restoreFile(type: AddonType, row: AddonRow, file: string, signal: AbortSignal): Promise<string> {
    const staging = await this.stage(type, row, this.readBackup(type, file), signal);
    return this.apply(type, row, staging, signal);
  }

  backupPath(type: AddonType, name: string, entry: BackupEntry): string {
    return path.join(this.deps.backupsDir(type.name, name), entry.file);
  }

  /** Keeps the newest `keep` backups; returns the names removed. */
  prune(type: AddonType, name: string, keep: number): string[] {
    const all = this.backups(type, name);
    const gone = all.slice(0, Math.max(0, all.length - keep));
    for (const b of gone) fs.rmSync(path.join(this.deps.backupsDir(type.name, name), b.file), { force: true });
    return gone.map((b) => b.name);
  }
}
