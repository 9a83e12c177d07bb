import type { AppSettingsStore } from '../deploy/app-settings-store.js';
import { chooseBuilder } from '../builders/select-builder.js';
import { parseRepoPath } from '../builders/source-paths.js';
import type { BuildLimits } from '../deploy/build-slots.js';
import { formatMemory, parseMemory } from '../deploy/resource-limits.js';
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
}

export const BUILDER_PATH_KEYS = ['build-dir', 'dockerfile-path'] as const;
export const BUILDER_GLOBAL_KEYS = ['concurrency', 'min-free-memory'] as const;
const CONCURRENCY_KEY = 'builder.concurrency';
const MIN_FREE_KEY = 'builder.min-free-memory';
const MAX_CONCURRENCY = 64;

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

  /** `builder:set --global concurrency N | min-free-memory SIZE|none`. */
  setGlobal(key: string, value: string | undefined): string {
    if (value === undefined) throw SettingsErrors.builderGlobal(`give a value: builder:set --global ${key} VALUE`);
    if (key === 'concurrency') {
      if (!/^\d{1,2}$/.test(value) || Number(value) < 1 || Number(value) > MAX_CONCURRENCY)
        throw SettingsErrors.builderGlobal(
          `concurrency must be a whole number from 1 to ${MAX_CONCURRENCY}, got '${value}'; nothing was changed`,
        );
      this.deps.globals.set(CONCURRENCY_KEY, value);
      return value;
    }
    if (key === 'min-free-memory') {
      const bytes = value === 'none' || value === '0' ? null : parseMemory(value);
      this.deps.globals.set(MIN_FREE_KEY, bytes === null ? '' : String(bytes));
      return bytes === null ? 'none' : formatMemory(bytes);
    }
    throw SettingsErrors.builderGlobal(
      `unknown global builder setting '${key}' (use ${BUILDER_GLOBAL_KEYS.join(', ')}); nothing was changed`,
    );
  }

  limits(): BuildLimits {
    const n = Number(this.deps.globals.get(CONCURRENCY_KEY) || 1);
    const floor = Number(this.deps.globals.get(MIN_FREE_KEY) || Number.NaN);
    return { concurrency: Number.isInteger(n) && n >= 1 ? n : 1, minFreeBytes: Number.isInteger(floor) && floor > 0 ? floor : null };
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
    return {
      builder,
      reason,
      lastBuilt: d.releases.current(app)?.builder ?? null,
      buildDir: buildDir ?? '. (the repository root)',
      dockerfilePath: dockerfile,
      concurrency: limits.concurrency,
      minFreeMemory: limits.minFreeBytes === null ? 'none' : formatMemory(limits.minFreeBytes),
    };
  }
}
