import fs from 'node:fs';
import type { Identity } from '../contracts/command-io.js';
import { appStorageDir, parseMount, splitBind } from '../deploy/storage-mounts.js';
import { SettingsErrors } from './settings-errors.js';
import type { SettingsIo, SettingsService } from './settings-service.js';

export interface StorageDeps {
  settings: Pick<SettingsService, 'update'> & { mounts(app: string): string[] };
  /** the data dir: app storage lives under `<dataDir>/storage/<app>/` */
  dataDir: string;
}

export interface Mount {
  host: string;
  container: string;
  readOnly: boolean;
}

/** Host dirs mounted into every container of an app (`storage:*`), applied at the next rollout. */
export class StorageService {
  constructor(private readonly deps: StorageDeps) {}

  dir(app: string): string {
    return appStorageDir(this.deps.dataDir, app);
  }

  list(app: string): Mount[] {
    return this.deps.settings.mounts(app).map(splitBind);
  }

  /** Mounts `<host-dir>:<container-dir>[:ro]`; `added` is false when that exact mount exists already. */
  async mount(app: string, spec: string, identity: Identity, io: SettingsIo): Promise<Mount & { added: boolean }> {
    const m = parseMount(spec, { app, dataDir: this.deps.dataDir, role: identity.role });
    let added = false;
    await this.deps.settings.update(
      app,
      'mounts',
      (list) => {
        if (list.includes(m.bind)) return list;
        const clash = list.map(splitBind).find((b) => b.container === m.container);
        if (clash) {
          throw SettingsErrors.mountTaken(
            `${m.container} is already mounted from ${clash.host}: storage:unmount ${app} ${m.container} first; nothing was changed`,
          );
        }
        if (m.inAppStorage) fs.mkdirSync(m.host, { recursive: true, mode: 0o755 });
        added = true;
        return [...list, m.bind];
      },
      io,
    );
    return { host: m.host, container: m.container, readOnly: m.readOnly, added };
  }

  /** Removes the mount at a container dir (or `host:container`); the host dir and its files stay. */
  async unmount(app: string, arg: string, io: SettingsIo): Promise<Mount> {
    const container = (arg.includes(':') ? splitBind(arg).container : arg).replace(/\/+$/, '');
    let hit: string | undefined;
    await this.deps.settings.update(
      app,
      'mounts',
      (list) => {
        hit = list.find((b) => splitBind(b).container === container);
        if (!hit) throw SettingsErrors.notMounted(`nothing is mounted at ${container || arg} in ${app}`);
        return list.filter((b) => b !== hit);
      },
      io,
    );
    return splitBind(hit!);
  }
}
