import type { Locks } from '../deploy/app-locks.js';
import type { Logger } from '../log/logger.js';
import type { ContainerRuntime } from '../runtime/container-runtime.js';
import type { ConfigService } from '../services/config-service.js';
import type { AddonsRepository } from '../state/addons-repository.js';
import type { AddonContainers } from './addon-containers.js';
import type { AddonType } from './addon-type.js';
import type { AddonRow } from '../state/addons-repository.js';
import type { Writable } from 'node:stream';

/** What the add-on services are built from: the repository, the containers, the apps' networks and config. */
export interface AddonDeps {
  addons: AddonsRepository;
  appExists(app: string): boolean;
  containers: AddonContainers;
  networks: Pick<ContainerRuntime, 'ensureNetwork' | 'appNetwork'>;
  config: Pick<ConfigService, 'change' | 'all'>;
  locks: Locks;
  /** the image `create` uses when given none: the type's env override (tests) or its default */
  defaultImage(type: AddonType): string;
  log: Logger;
}

/** One add-on by type and name, its lock, and the add-on once it runs: what link and unlink need of AddonService. */
export interface AddonLookup {
  get(type: AddonType, name: string): AddonRow;
  withLock<T>(type: AddonType, name: string, what: string, out: Writable | null, signal: AbortSignal, fn: () => Promise<T>): Promise<T>;
  running(type: AddonType, name: string): Promise<AddonRow>;
}
