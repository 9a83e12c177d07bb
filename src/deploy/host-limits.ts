import type { SettingsRepository } from '../state/settings-repository.js';
import { DEFAULT_BUILD_TIMEOUT_MS } from './build-limiter.js';
import type { BuildLimits } from './build-slots.js';

/** The global settings keys of the host's limits (`resource:set-global`, `builder:set --global`). */
export const HOST_LIMIT_KEYS = {
  defaultMemory: 'resource.default-memory',
  concurrency: 'builder.concurrency',
  minFreeMemory: 'builder.min-free-memory',
  buildTimeout: 'builder.build-timeout',
} as const;

/** The shortest build timeout a setting may hold. */
export const MIN_BUILD_TIMEOUT_MS = 1000;

/** The size caps and floors `builder:set --global KEY SIZE|none` sets, with their defaults (null: none). */
export const SIZE_SETTINGS = {
  'max-push-size': { key: 'builder.max-push-size', default: 1024 ** 3 },
  'max-image-size': { key: 'builder.max-image-size', default: 10 * 1024 ** 3 },
  'min-free-disk': { key: 'builder.min-free-disk', default: 1024 ** 3 },
} as const;
export type SizeSetting = keyof typeof SIZE_SETTINGS;

/** The host's upload caps and free-disk floor, in bytes (null: none). */
export interface UploadLimits {
  /** a push's pack (git's receive.maxInputSize) */
  maxPushBytes: number | null;
  /** a git:load-image upload */
  maxImageBytes: number | null;
  /** free space the data dir and Docker's data root keep: pushes, uploads and builds are refused below it */
  minFreeDiskBytes: number | null;
}

/**
 * The host-wide limits as the deploy pipeline reads them, from the global settings an admin
 * sets: the default memory of processes without their own, the build queue and its memory floor,
 * the build timeout, the upload caps and the free-disk floor. Read at each use, so a change
 * applies to the next build or upload; the services that set them (SettingsService,
 * BuilderService) read them here too.
 */
export class HostLimits {
  constructor(private readonly globals: Pick<SettingsRepository, 'get'>) {}

  /** The memory limit of every process without its own (`resource:set-global memory`), in bytes; null: none. */
  defaultMemory(): number | null {
    return positive(this.globals.get(HOST_LIMIT_KEYS.defaultMemory));
  }

  /** Builds at once (`concurrency`, default 1) and the free memory a build waits for (`min-free-memory`). */
  buildLimits(): BuildLimits {
    const n = positive(this.globals.get(HOST_LIMIT_KEYS.concurrency)) ?? 1;
    return { concurrency: n, minFreeBytes: positive(this.globals.get(HOST_LIMIT_KEYS.minFreeMemory)) };
  }

  /** How long a build may run (`build-timeout`). */
  buildTimeoutMs(): number {
    const ms = positive(this.globals.get(HOST_LIMIT_KEYS.buildTimeout));
    return ms !== null && ms >= MIN_BUILD_TIMEOUT_MS ? ms : DEFAULT_BUILD_TIMEOUT_MS;
  }

  uploadLimits(): UploadLimits {
    const size = (s: SizeSetting): number | null => {
      const stored = this.globals.get(SIZE_SETTINGS[s].key);
      return stored === undefined ? SIZE_SETTINGS[s].default : positive(stored);
    };
    return { maxPushBytes: size('max-push-size'), maxImageBytes: size('max-image-size'), minFreeDiskBytes: size('min-free-disk') };
  }
}

/** A stored whole number above 0, else null (an empty value means "none"). */
function positive(stored: string | undefined): number | null {
  const n = Number(stored || Number.NaN);
  return Number.isInteger(n) && n > 0 ? n : null;
}
