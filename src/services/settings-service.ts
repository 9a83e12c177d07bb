import os from 'node:os';
import type { Writable } from 'node:stream';
import { BUILDER_NAMES } from '../builders/builder.js';
import type { HealthCheckSettings } from '../deploy/app-json.js';
import type { AppSettingsStore } from '../deploy/app-settings-store.js';
import { parseChecksArgs, parseConfigPairs } from '../inputs/operation-inputs.js';
import { applyLimits, formatMemory, checkProcessType, parseLimitArgs, parseMemory, type ResourceTable } from '../deploy/resource-limits.js';
import type { Rollout } from '../deploy/rollout.js';
import type { SettingKey, SettingValue } from '../deploy/settings-schema.js';
import type { SettingsRepository } from '../state/settings-repository.js';
import { type Locks, underLock } from '../deploy/app-locks.js';
import { SettingsErrors } from './settings-errors.js';
import type { Identity } from '../contracts/command-io.js';
import { DEFAULT_PIDS_LIMIT, DROPPED_CAPABILITIES } from '../runtime/container-hardening.js';
import { HOST_LIMIT_KEYS, HostLimits } from '../deploy/host-limits.js';

export interface SettingsDeps {
  settings: Pick<AppSettingsStore, 'get' | 'write'>;
  rollout: Pick<Rollout, 'checks'>;
  /** the app's process types (null before the first deploy) */
  knownProcesses(app: string): Set<string> | null;
  locks: Locks;
  /** global settings (the default memory limit) */
  globals: Pick<SettingsRepository, 'get' | 'set'>;
}

/** The global setting holding the default memory limit in bytes ('' or absent: none). */
/** What `resource:set [app] KEY VALUE` sets. */
export const RESOURCE_SET_KEYS = ['hardening'] as const;

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
  async limit(app: string, process: string, args: string[], by: Identity, io: SettingsIo): Promise<ResourceTable> {
    const proc = checkProcessType(process, this.deps.knownProcesses(app));
    const patch = parseLimitArgs(args);
    if (by.role !== 'admin') this.checkWithinHostDefaults(patch.memoryBytes);
    return this.update(app, 'resources', (current) => applyLimits(current, proc, patch), io);
  }

  /**
   * A developer key stays within what the admin set for the host: no memory limit above the
   * global default (or, without one, above the host's memory), and no lifting it with `none`.
   */
  private checkWithinHostDefaults(memoryBytes: number | null | undefined): void {
    if (memoryBytes === undefined) return;
    const cap = this.defaultMemory() ?? os.totalmem();
    const capText = `${formatMemory(cap)} (${this.defaultMemory() === null ? "this host's memory" : 'the default set with resource:set-global'})`;
    if (memoryBytes === null && this.defaultMemory() !== null)
      throw SettingsErrors.aboveHostDefaults(`a developer key cannot lift the memory limit; the most it may set is ${capText}`);
    if (memoryBytes !== null && memoryBytes > cap)
      throw SettingsErrors.aboveHostDefaults(`memory ${formatMemory(memoryBytes)} is above ${capText}; an admin key may set more`);
  }

  /** What `hardening on` means, for reports. */
  hardeningSummary(): string {
    return `no-new-privileges, dropped ${DROPPED_CAPABILITIES.join(' ')}, pids limit ${DEFAULT_PIDS_LIMIT}`;
  }

  hardening(app: string): boolean {
    return this.deps.settings.get(app, 'hardening');
  }

  /** `resource:set KEY VALUE`; the keys: RESOURCE_SET_KEYS. */
  async resourceSet(app: string, key: string, value: string, by: Identity, io: SettingsIo): Promise<boolean> {
    if (key === 'hardening' && by.role !== 'admin') throw SettingsErrors.forbidden("'resource:set hardening' needs an admin key");
    if (key !== 'hardening')
      throw SettingsErrors.resourceSetting(`unknown setting '${key}' (use ${RESOURCE_SET_KEYS.join(', ')}); nothing was changed`);
    return this.setHardening(app, value, io);
  }

  /** `resource:set hardening on|off` (admin only: resourceSet checks the role); applied at the next rollout. */
  async setHardening(app: string, value: string, io: SettingsIo): Promise<boolean> {
    const on = ONOFF[value.toLowerCase()];
    if (on === undefined) throw SettingsErrors.resourceSetting(`hardening must be on or off, got '${value}'; nothing was changed`);
    return this.update(app, 'hardening', () => on, io);
  }

  /** The memory limit of every process without its own (`resource:limit`), in bytes; null: none. */
  defaultMemory(): number | null {
    return new HostLimits(this.deps.globals).defaultMemory();
  }

  /** `resource:set-global memory 512m|none`; applied at each app's next rollout. */
  setDefaultMemory(value: string): number | null {
    const bytes = value.toLowerCase() === 'none' ? null : parseMemory(value);
    this.deps.globals.set(HOST_LIMIT_KEYS.defaultMemory, bytes === null ? '' : String(bytes));
    return bytes;
  }
}

const ONOFF: Record<string, boolean> = { on: true, off: false, true: true, false: false };
