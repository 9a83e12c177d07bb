import fs from 'node:fs';
import type { Identity } from '../contracts/command-io.js';
import { StorageErrors } from '../deploy/storage-errors.js';
import {
  ALLOWED_ROOTS_KEY,
  type AppBind,
  appStorageDir,
  checkAllowedRoot,
  parseAllowedRoots,
  parseMount,
  splitBind,
} from '../deploy/storage-mounts.js';
import type { SettingsRepository } from '../state/settings-repository.js';
import { SettingsErrors } from './settings-errors.js';
import type { SettingsIo, SettingsService } from './settings-service.js';

export interface StorageDeps {
  settings: Pick<SettingsService, 'update'> & { mounts(app: string): string[] };
  /** the data dir: app storage lives under `<dataDir>/storage/<app>/` */
  dataDir: string;
  /** global settings: the allowed roots (ALLOWED_ROOTS_KEY) */
  globals: Pick<SettingsRepository, 'get' | 'set'>;
  /** every app's stored binds: a new one must not nest with a writable one (a container could swap it for a symlink) */
  allBinds(): AppBind[];
}

export interface Mount {
  host: string;
  container: string;
  readOnly: boolean;
}

/**
 * Host dirs mounted into every container of an app (`storage:*`), applied at the next rollout,
 * and the global roots under which admins may mount more than the app's own storage dir.
 */
export class StorageService {
  constructor(private readonly deps: StorageDeps) {}

  dir(app: string): string {
    return appStorageDir(this.deps.dataDir, app);
  }

  list(app: string): Mount[] {
    return this.deps.settings.mounts(app).map(splitBind);
  }

  /** The roots an admin allowed (`storage:allow-root`), in the order they were added. */
  allowedRoots(): string[] {
    return parseAllowedRoots(this.deps.globals.get(ALLOWED_ROOTS_KEY));
  }

  /** Adds a root (checked: absolute, an existing dir, no symlink, no never-mounted place); `added` is false when it was there. */
  allowRoot(dir: string): { root: string; added: boolean } {
    const root = checkAllowedRoot(dir, { dataDir: this.deps.dataDir });
    const roots = this.allowedRoots();
    if (roots.includes(root)) return { root, added: false };
    this.deps.globals.set(ALLOWED_ROOTS_KEY, JSON.stringify([...roots, root]));
    return { root, added: true };
  }

  /** Removes a root; mounts under it are refused at their app's next rollout until unmounted. */
  removeRoot(dir: string): string {
    const roots = this.allowedRoots();
    const root = roots.find((r) => r === dir || r === dir.replace(/\/+$/, ''));
    if (!root) throw StorageErrors.rootNotFound(`${dir} is not an allowed root (allowed: ${roots.join(', ') || 'none'})`);
    this.deps.globals.set(ALLOWED_ROOTS_KEY, JSON.stringify(roots.filter((r) => r !== root)));
    return root;
  }

  /** Mounts `<host-dir>:<container-dir>[:ro]`; `added` is false when that exact mount exists already. */
  async mount(app: string, spec: string, identity: Identity, io: SettingsIo): Promise<Mount & { added: boolean }> {
    const m = parseMount(spec, {
      app,
      dataDir: this.deps.dataDir,
      role: identity.role,
      allowedRoots: this.allowedRoots(),
      allBinds: this.deps.allBinds(),
    });
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
