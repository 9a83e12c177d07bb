import type { Writable } from 'node:stream';
import { addonVolumeName } from './addon-naming.js';
import type { AddonType } from './addon-type.js';
import type { Logger } from '../log/logger.js';
import type { AddonContainers } from './addon-containers.js';
import type { AddonRow, AddonsRepository } from '../state/addons-repository.js';
import type { AddonDataService } from './addon-data-service.js';
import { AddonErrors } from './addon-errors.js';
import type { AddonService } from './addon-service.js';

export interface AddonUpgradeDeps {
  addons: Pick<AddonsRepository, 'setImage' | 'links'>;
  service: Pick<AddonService, 'running' | 'withLock' | 'startContainer' | 'ensureLogins'>;
  data: Pick<AddonDataService, 'backup' | 'restoreFile' | 'backupPath'>;
  containers: Pick<AddonContainers, 'ensureImage' | 'exec' | 'runTool' | 'stop' | 'remove' | 'createVolume' | 'removeVolume'>;
  appNetwork(app: string): string;
  log: Logger;
}

export interface UpgradeResult {
  mode: 'minor' | 'major';
  image: string;
  version: string;
  volume: string;
  oldVolume: string;
}

/** `15.14` from `postgres (PostgreSQL) 15.14 (Debian 15.14-0+deb12u1)`, `7.0.15` from `Redis server v=7.0.15 ...` */
export function parseVersion(text: string): { full: string; major: string } | null {
  const m = /(\d+)(?:\.\d+)+/.exec(text);
  return m ? { full: m[0], major: m[1]! } : null;
}

/**
 * Moves an add-on to another image. Same major version: the container is recreated on the same
 * volume. Another major version (whose data files the new server may not read): a verified
 * backup of the old data, a new container on a new volume restored from it, and the old volume
 * kept (listed by `info`) until the user removes it. On any failure the old container comes back.
 */
export class AddonUpgradeService {
  constructor(private readonly deps: AddonUpgradeDeps) {}

  async upgrade(type: AddonType, name: string, image: string | undefined, out: Writable, signal: AbortSignal): Promise<UpgradeResult> {
    const d = this.deps;
    if (!image) throw AddonErrors.usage(`${type.name}:upgrade needs --image IMAGE:TAG`);
    const row = await d.service.running(type, name);
    if (image === row.image) throw AddonErrors.upgrade(`${type.name} service ${name} already runs ${image}`);
    return d.service.withLock(type, name, `${type.name}:upgrade`, out, signal, async () => {
      await d.containers.ensureImage(image);
      const from = parseVersion((await d.containers.exec(row.container, type.version)).output);
      const probe = await d.containers.runTool(image, null, type.volumePath, type.version);
      const to = parseVersion(probe.output);
      if (!from || !to)
        throw AddonErrors.upgrade(`cannot tell the versions apart (${from?.full ?? '?'} -> ${to?.full ?? '?'}); nothing was changed`);
      if (Number(to.major) < Number(from.major))
        throw AddonErrors.upgrade(`${image} is ${to.full}, older than ${from.full}: downgrades are refused; nothing was changed`);
      const networks = d.addons.links(type.name, name).map((l) => d.appNetwork(l.app));
      if (to.major === from.major) {
        out.write(`-----> ${from.full} -> ${to.full}: same major version, recreating the container on the same volume\n`);
        await this.swap(type, row, { ...row, image }, networks, signal);
        d.addons.setImage(type.name, name, image, row.volume, row.oldVolumes);
        return { mode: 'minor', image, version: to.full, volume: row.volume, oldVolume: row.volume };
      }
      out.write(`-----> ${from.full} -> ${to.full}: major upgrade by dump and restore into a new volume\n`);
      await this.freeze(type, row, out);
      try {
        return await this.major(type, row, image, networks, { from: from.full, to: to.full }, out, signal);
      } catch (e) {
        await this.thaw(type, row, out);
        throw e;
      }
    });
  }

  /** Writes stop before the dump: one made during the upgrade fails at the app instead of being lost. */
  private async freeze(type: AddonType, row: AddonRow, out: Writable): Promise<void> {
    const r = await this.deps.containers.exec(row.container, type.freezeWrites);
    if (r.exitCode !== 0)
      throw AddonErrors.upgrade(
        `cannot stop writes to ${type.name} service ${row.name}: ${r.stderr.trim() || `exit ${r.exitCode}`}; nothing was changed`,
      );
    out.write('-----> Writes refused until the upgrade ends (apps see errors, nothing written is lost)\n');
  }

  /** After a failed major upgrade: the old server (restarted or still running) takes writes again. */
  private async thaw(type: AddonType, row: AddonRow, out: Writable): Promise<void> {
    const r = await this.deps.containers.exec(row.container, type.thawWrites).catch((e: Error) => ({ exitCode: 1, stderr: e.message }));
    if (r.exitCode === 0) out.write(`-----> Writes accepted again by ${row.image}\n`);
    else {
      this.deps.log.error(
        { addon: row.name, type: type.name, stderr: r.stderr },
        'add-on writes could not be re-enabled after a failed upgrade',
      );
      out.write(`-----> could not re-enable writes (${r.stderr.trim()}); run ${type.name}:restart ${row.name}\n`);
    }
  }

  /** A verified backup of the old data restored into a new volume under the new image; the old volume is kept. */
  private async major(
    type: AddonType,
    row: AddonRow,
    image: string,
    networks: string[],
    versions: { from: string; to: string },
    out: Writable,
    signal: AbortSignal,
  ): Promise<UpgradeResult> {
    const d = this.deps;
    const backup = await d.data.backup(type, row.name, signal, 'upgrade');
    out.write(`-----> Verified backup ${backup.name} written\n`);
    const volume = addonVolumeName(type.name, row.name, row.oldVolumes.length + 2);
    await d.containers.createVolume(volume, type.name, row.name);
    const next = { ...row, image, volume };
    try {
      await this.swap(type, row, next, networks, signal, async () => {
        // logins live in the server, not in the dump: each linked app's is made again first, so
        // the restore gives every table back to its app's login
        await d.service.ensureLogins(type, next);
        out.write(`-----> Restoring ${backup.name} into ${volume}\n`);
        await d.data.restoreFile(type, next, d.data.backupPath(type, row.name, backup), signal);
      });
    } catch (e) {
      await d.containers.removeVolume(volume).catch(() => {});
      throw e;
    }
    d.addons.setImage(type.name, row.name, image, volume, [...row.oldVolumes, row.volume]);
    d.log.info({ addon: row.name, type: type.name, ...versions, volume, kept: row.volume }, 'add-on upgraded (major)');
    return { mode: 'major', image, version: versions.to, volume, oldVolume: row.volume };
  }

  /** Replaces the container by one of `next`; on failure the old one is started again. */
  private async swap(
    type: AddonType,
    old: AddonRow,
    next: AddonRow,
    networks: string[],
    signal: AbortSignal,
    fill?: () => Promise<void>,
  ): Promise<void> {
    const d = this.deps;
    // a clean shutdown first: Redis saves its RDB, Postgres checkpoints
    await d.containers.stop(old.container);
    await d.containers.remove(old.container);
    try {
      await d.service.startContainer(type, next, networks, signal);
      await fill?.();
    } catch (e) {
      await d.containers.remove(next.container).catch(() => {});
      await d.service.startContainer(type, old, networks, signal);
      throw AddonErrors.upgrade(`upgrade to ${next.image} failed, ${old.image} is back: ${(e as Error).message}`, e);
    }
  }
}
