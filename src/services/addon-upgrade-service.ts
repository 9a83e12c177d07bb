import type { Writable } from 'node:stream';
import { addonVolumeName } from '../addons/addon-naming.js';
import type { AddonType } from '../addons/addon-type.js';
import type { Logger } from '../log/logger.js';
import type { AddonContainers } from '../runtime/addon-containers.js';
import type { AddonRow, AddonsRepository } from '../state/addons-repository.js';
import type { AddonDataService } from './addon-data-service.js';
import { AddonErrors } from './addon-errors.js';
import type { AddonService } from './addon-service.js';

export interface AddonUpgradeDeps {
  addons: Pick<AddonsRepository, 'setImage' | 'links'>;
  service: Pick<AddonService, 'running' | 'withLock' | 'startContainer'>;
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
      const backup = await d.data.backup(type, name, signal, 'upgrade');
      out.write(`-----> Verified backup ${backup.name} written\n`);
      const volume = addonVolumeName(type.name, name, row.oldVolumes.length + 2);
      await d.containers.createVolume(volume, type.name, name);
      const next = { ...row, image, volume };
      try {
        await this.swap(type, row, next, networks, signal, async () => {
          out.write(`-----> Restoring ${backup.name} into ${volume}\n`);
          await d.data.restoreFile(type, next, d.data.backupPath(type, name, backup), signal);
        });
      } catch (e) {
        await d.containers.removeVolume(volume).catch(() => {});
        throw e;
      }
      d.addons.setImage(type.name, name, image, volume, [...row.oldVolumes, row.volume]);
      d.log.info({ addon: name, type: type.name, from: from.full, to: to.full, volume, kept: row.volume }, 'add-on upgraded (major)');
      return { mode: 'major', image, version: to.full, volume, oldVolume: row.volume };
    });
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
