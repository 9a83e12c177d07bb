import type { Writable } from 'node:stream';
import { BUILDER_NAMES } from '../builders/builder.js';
import type { HealthCheckSettings } from '../deploy/app-json.js';
import type { AppSettingsStore } from '../deploy/app-settings-store.js';
import { parseChecksArgs, parseConfigPairs } from '../deploy/operation-inputs.js';
import { applyLimits, checkProcessType, parseLimitArgs, type ResourceTable } from '../deploy/resource-limits.js';
import type { Rollout } from '../deploy/rollout.js';
import type { SettingKey, SettingValue } from '../deploy/settings-schema.js';
import { type Locks, underLock } from './app-lock.js';
import { SettingsErrors } from './settings-errors.js';

export interface SettingsDeps {
  settings: Pick<AppSettingsStore, 'get' | 'write'>;
  rollout: Pick<Rollout, 'checks'>;
  /** the app's process types (null before the first deploy) */
  knownProcesses(app: string): Set<string> | null;
  locks: Locks;
}

/** Where a command's input ends up: parsed first (bad input changes nothing), then written under the app lock. */
export interface SettingsIo {
  out: Writable;
  signal: AbortSignal;
}

/**
 * The per-app settings that apply at the next push or rollout: health checks, builder, build
 * args, resource limits. Each write parses its input first, then goes through the settings
 * schema under the app lock, so it never lands in the middle of a rollout.
 */
export class SettingsService {
  constructor(private readonly deps: SettingsDeps) {}

  /** Stores `fn(current)` under the app lock and returns it. */
  update<K extends SettingKey>(
    app: string,
    key: K,
    fn: (current: SettingValue<K>) => SettingValue<K>,
    io: SettingsIo,
  ): Promise<SettingValue<K>> {
    const d = this.deps;
    return underLock(d.locks, app, `a ${key} change`, io.out, io.signal, async () => {
      const next = fn(d.settings.get(app, key));
      d.settings.write(app, key, next);
      return next;
    });
  }

  /** The health check the next rollout uses: defaults, the live release's app.json, then `checks:set`. */
  checks(app: string): HealthCheckSettings {
    return this.deps.rollout.checks(app);
  }

  async setChecks(app: string, args: string[], io: SettingsIo): Promise<HealthCheckSettings> {
    const patch = parseChecksArgs(args);
    await this.update(app, 'checks', (current) => ({ ...current, ...patch }), io);
    return this.checks(app);
  }

  /** `dockerfile|pack|template`, or `auto` (stored as absent). */
  async setBuilder(app: string, name: string, io: SettingsIo): Promise<string> {
    const b = name.toLowerCase();
    const choices = [...BUILDER_NAMES, 'auto'];
    if (!choices.includes(b)) throw SettingsErrors.unknownBuilder(`unknown builder '${name}' (use ${choices.join(', ')})`);
    await this.update(app, 'builder', () => (b === 'auto' ? null : (b as (typeof BUILDER_NAMES)[number])), io);
    return b;
  }

  buildArgs(app: string): Record<string, string> {
    return this.deps.settings.get(app, 'build-args');
  }

  /** `K=V` sets, `K=` removes. */
  async updateBuildArgs(app: string, args: string[], io: SettingsIo): Promise<Record<string, string>> {
    const pairs = parseConfigPairs(args);
    return this.update(
      app,
      'build-args',
      (current) => {
        const next = { ...current };
        for (const [k, v] of Object.entries(pairs)) {
          if (v === '') delete next[k];
          else next[k] = v;
        }
        return next;
      },
      io,
    );
  }

  mounts(app: string): string[] {
    return this.deps.settings.get(app, 'mounts');
  }

  resources(app: string): ResourceTable {
    return this.deps.settings.get(app, 'resources');
  }

  /** `memory=512m cpus=1` (`none` clears) for one process type or `*` (every process without its own). */
  async limit(app: string, process: string, args: string[], io: SettingsIo): Promise<ResourceTable> {
    const proc = checkProcessType(process, this.deps.knownProcesses(app));
    const patch = parseLimitArgs(args);
    return this.update(app, 'resources', (current) => applyLimits(current, proc, patch), io);
  }
}
