import type { AppSettingsStore } from '../deploy/app-settings-store.js';
import { chooseBuilder } from '../builders/select-builder.js';
import { parseRepoPath } from '../builders/source-paths.js';
import { buildMemory, formatDuration } from '../deploy/build-limiter.js';
import {
  HOST_LIMIT_KEYS,
  type HostLimits,
  MIN_BUILD_TIMEOUT_MS,
  SIZE_SETTINGS,
  type SizeSetting,
  type UploadLimits,
} from '../deploy/host-limits.js';
import type { BuildLimits } from '../deploy/build-slots.js';
import { BUILD_PIDS_LIMIT } from '../deploy/build-limiter.js';
import { formatMemory, parseMemory } from '../deploy/resource-limits.js';
import { parseDurationMs } from '../config/duration.js';
import type { SettingsRepository } from '../state/settings-repository.js';
import type { ReleasesRepository } from '../state/releases-repository.js';
import type { SettingsIo, SettingsService } from './settings-service.js';
import { SettingsErrors } from './settings-errors.js';

export interface BuilderServiceDeps {
  /** writes under the app lock */
  settings: Pick<SettingsService, 'update'>;
  store: Pick<AppSettingsStore, 'get'>;
  releases: Pick<ReleasesRepository, 'current'>;
  globals: Pick<SettingsRepository, 'get' | 'set'>;
  /** whether the pushed deploy branch has `file`; null: nothing pushed yet */
  headHasFile(app: string, file: string): Promise<boolean | null>;
  env: NodeJS.ProcessEnv;
  /** the host's limits as the pipeline reads them (the global settings this service sets) */
  limits: Pick<HostLimits, 'buildLimits' | 'buildTimeoutMs' | 'uploadLimits' | 'defaultMemory'>;
}

export const BUILDER_PATH_KEYS = ['build-dir', 'dockerfile-path'] as const;
export const BUILDER_GLOBAL_KEYS = [
  'concurrency',
  'min-free-memory',
  'build-timeout',
  'max-push-size',
  'max-image-size',
  'min-free-disk',
] as const;
const MAX_CONCURRENCY = 64;
const MAX_TIMEOUT_MS = 24 * 3_600_000;

export interface BuilderReport {
  /** the builder the next push uses (null: decided at the first push) */
  builder: string | null;
  reason: string;
  /** the builder of the live release */
  lastBuilt: string | null;
  buildDir: string;
  dockerfilePath: string;
  concurrency: number;
  minFreeMemory: string;
  /** what each build of this app runs under */
  buildMemory: string;
  buildProcesses: number;
  buildTimeout: string;
  maxPushSize: string;
  maxImageSize: string;
  minFreeDisk: string;
}

/**
 * How apps are built: the monorepo paths (`build-dir`, `dockerfile-path`, relative and inside
 * the repository), the host's build limits (`--global concurrency`, `min-free-memory`) and
 * `builder:report`, which explains the builder the next push will use from the pushed commit.
 */
export class BuilderService {
  constructor(private readonly deps: BuilderServiceDeps) {}

  /** `builder:set [app] build-dir|dockerfile-path [path]`: no path (or `.`) goes back to the default. */
  async setPath(app: string, key: string, text: string, io: SettingsIo): Promise<string | null> {
    const k = key as (typeof BUILDER_PATH_KEYS)[number];
    const value = parseRepoPath(text, key);
    await this.deps.settings.update(app, k, () => value, io);
    return value;
  }

  /**
   * `builder:set --global concurrency N | min-free-memory SIZE|none | build-timeout DURATION |
   * max-push-size SIZE|none | max-image-size SIZE|none | min-free-disk SIZE|none`.
   */
  setGlobal(key: string, value: string | undefined): string {
    if (value === undefined) throw SettingsErrors.builderGlobal(`give a value: builder:set --global ${key} VALUE`);
    if (key === 'concurrency') {
      if (!/^\d{1,2}$/.test(value) || Number(value) < 1 || Number(value) > MAX_CONCURRENCY)
        throw SettingsErrors.builderGlobal(
          `concurrency must be a whole number from 1 to ${MAX_CONCURRENCY}, got '${value}'; nothing was changed`,
        );
      this.deps.globals.set(HOST_LIMIT_KEYS.concurrency, value);
      return value;
    }
    if (key === 'min-free-memory') {
      const bytes = value === 'none' || value === '0' ? null : parseMemory(value);
      this.deps.globals.set(HOST_LIMIT_KEYS.minFreeMemory, bytes === null ? '' : String(bytes));
      return bytes === null ? 'none' : formatMemory(bytes);
    }
    if (key === 'build-timeout') {
      const ms = parseDurationMs(value, MAX_TIMEOUT_MS);
      if (ms === null || ms < MIN_BUILD_TIMEOUT_MS)
        throw SettingsErrors.builderGlobal(
          `build-timeout must be a duration from 1s to 24h (e.g. 30m, 90s, 2h), got '${value}'; nothing was changed`,
        );
      this.deps.globals.set(HOST_LIMIT_KEYS.buildTimeout, String(ms));
      return formatDuration(ms);
    }
    if (key in SIZE_SETTINGS) {
      const bytes = value === 'none' || value === '0' ? null : parseSize(key, value);
      this.deps.globals.set(SIZE_SETTINGS[key as SizeSetting].key, bytes === null ? '' : String(bytes));
      return bytes === null ? 'none' : formatMemory(bytes);
    }
    throw SettingsErrors.builderGlobal(
      `unknown global builder setting '${key}' (use ${BUILDER_GLOBAL_KEYS.join(', ')}); nothing was changed`,
    );
  }

  limits(): BuildLimits {
    return this.deps.limits.buildLimits();
  }

  /** How long a build may run (`build-timeout`). */
  buildTimeoutMs(): number {
    return this.deps.limits.buildTimeoutMs();
  }

  uploadLimits(): UploadLimits {
    return this.deps.limits.uploadLimits();
  }

  async report(app: string): Promise<BuilderReport> {
    const d = this.deps;
    const buildDir = d.store.get(app, 'build-dir');
    const dockerfile = d.store.get(app, 'dockerfile-path') ?? 'Dockerfile';
    const inDir = (f: string) => (buildDir ? `${buildDir}/${f}` : f);
    const pushed = await d.headHasFile(app, inDir(dockerfile));
    const forced = d.store.get(app, 'builder');
    let builder: string | null = null;
    let reason = 'decided at the first push: a Dockerfile, then project.toml or pack, then the template builder';
    if (pushed !== null || forced) {
      const choice = await chooseBuilder(forced, async (f) => (await d.headHasFile(app, inDir(f))) === true, d.env, dockerfile);
      builder = choice.name;
      reason = choice.reason;
    }
    const limits = this.limits();
    const uploads = this.uploadLimits();
    const memory = buildMemory(d.store.get(app, 'resources'), d.limits.defaultMemory());
    const size = (n: number | null) => (n === null ? 'none' : formatMemory(n));
    return {
      builder,
      reason,
      lastBuilt: d.releases.current(app)?.builder ?? null,
      buildDir: buildDir ?? '. (the repository root)',
      dockerfilePath: dockerfile,
      concurrency: limits.concurrency,
      minFreeMemory: limits.minFreeBytes === null ? 'none' : formatMemory(limits.minFreeBytes),
      buildMemory: `${formatMemory(memory.bytes)} (${memory.source})`,
      buildProcesses: BUILD_PIDS_LIMIT,
      buildTimeout: formatDuration(this.buildTimeoutMs()),
      maxPushSize: size(uploads.maxPushBytes),
      maxImageSize: size(uploads.maxImageBytes),
      minFreeDisk: size(uploads.minFreeDiskBytes),
    };
  }
}

/** A size for `key` (`500m`, `2g`; at least 1k, at most 1024g), refused with one line naming the key. */
function parseSize(key: string, value: string): number {
  try {
    return parseMemory(value, 1024);
  } catch (e) {
    throw SettingsErrors.builderGlobal(
      `${key} must be a size with a unit k, m or g from 1k to 1024g (e.g. 500m, 2g), or none; got '${value}'; nothing was changed`,
      e,
    );
  }
}
