import { BUILDER_NAMES, type BuilderName } from '../builders/builder.js';
import type { RestartSpec } from '../runtime/container-spec.js';
import type { HealthCheckSettings } from './app-json.js';
import { SettingErrors } from './setting-errors.js';
import type { ResourceTable } from './resource-limits.js';

/** The previous release kept warm after a deploy: its paused web containers, until `until` (epoch ms). */
export interface WarmRecord {
  release: number;
  until: number;
  ids: string[];
}

/** After a warm rollback, live release `release` is served by containers `ids` that carry another release's label. */
export interface AdoptedRecord {
  release: number;
  ids: string[];
}

/**
 * Every per-app setting in one place: key -> type (by its checker) -> default. A value is checked
 * on every write and on every read (a stored value that no longer fits reads as the default), so
 * nothing else parses `app_settings` rows. Services write them under the app lock; a rollout reads
 * them once, as one snapshot.
 */

interface SettingEntry<T> {
  /** what the setting holds, for errors and docs */
  summary: string;
  default: T;
  /** returns the value typed, or throws SettingErrors.invalid */
  check(value: unknown): T;
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const bad = (key: string, summary: string): never => {
  throw SettingErrors.invalid(`app setting '${key}' must be ${summary}`);
};

function recordOf<V>(key: string, summary: string, item: (v: unknown) => v is V): (v: unknown) => Record<string, V> {
  return (v) => {
    if (!isRecord(v) || !Object.values(v).every(item)) return bad(key, summary);
    return v as Record<string, V>;
  };
}

const isCount = (v: unknown): v is number => Number.isInteger(v) && (v as number) >= 0;
const isString = (v: unknown): v is string => typeof v === 'string';
const isIds = (v: unknown): v is string[] => Array.isArray(v) && v.every(isString);
const isWarmRecord = (v: unknown): v is WarmRecord => isRecord(v) && isCount(v.release) && isCount(v.until) && isIds(v.ids);
const isLimits = (v: unknown): v is ResourceTable[string] =>
  isRecord(v) && Object.entries(v).every(([k, n]) => (k === 'memoryBytes' || k === 'nanoCpus') && isCount(n));

/** Docker's restart policies, as `ps:set restart-policy` takes them and the `restart-policy` setting stores them. */
export const RESTART_POLICIES = ['no', 'always', 'on-failure', 'unless-stopped'] as const;
const CHECK_KEYS = ['path', 'timeout', 'attempts', 'wait'];

export const SETTINGS = {
  stopped: {
    summary: 'the formation saved by ps:stop (present: the app is stopped)',
    default: null as Record<string, number> | null,
    check: (v: unknown) => (v === null ? null : recordOf('stopped', 'a formation { process: count }', isCount)(v)),
  },
  'max-replicas': {
    summary: 'a whole number from 1 to 1000',
    default: 20,
    check: (v: unknown) =>
      Number.isInteger(v) && (v as number) >= 1 && (v as number) <= 1000
        ? (v as number)
        : bad('max-replicas', 'a whole number from 1 to 1000'),
  },
  'restart-policy': {
    summary: 'a Docker restart policy',
    default: null as RestartSpec | null,
    check: (v: unknown): RestartSpec | null => {
      if (v === null) return null;
      if (
        !isRecord(v) ||
        !(RESTART_POLICIES as readonly string[]).includes(v.policy as string) ||
        (v.maxRetries !== undefined && !isCount(v.maxRetries))
      )
        return bad('restart-policy', 'a Docker restart policy');
      return v as unknown as RestartSpec;
    },
  },
  builder: {
    summary: `one of ${BUILDER_NAMES.join(', ')} (absent: auto)`,
    default: null as BuilderName | null,
    check: (v: unknown): BuilderName | null =>
      v === null
        ? null
        : BUILDER_NAMES.includes(v as BuilderName)
          ? (v as BuilderName)
          : bad('builder', `one of ${BUILDER_NAMES.join(', ')}`),
  },
  'build-args': {
    summary: 'build args { NAME: value }',
    default: {} as Record<string, string>,
    check: recordOf('build-args', 'build args { NAME: value }', isString),
  },
  checks: {
    summary: 'health check settings (path, timeout, attempts, wait)',
    default: {} as Partial<HealthCheckSettings>,
    check: (v: unknown): Partial<HealthCheckSettings> => {
      if (!isRecord(v) || !Object.keys(v).every((k) => CHECK_KEYS.includes(k))) return bad('checks', 'health check settings');
      if ('path' in v && v.path !== null && typeof v.path !== 'string') return bad('checks', 'health check settings');
      for (const k of ['timeout', 'attempts', 'wait']) if (k in v && !isCount(v[k])) return bad('checks', 'health check settings');
      return v as Partial<HealthCheckSettings>;
    },
  },
  /** written by databases from before per-release health checks; read as a fallback only */
  'checks.appjson': {
    summary: 'the app.json health check of databases older than schema v3',
    default: {} as Partial<HealthCheckSettings>,
    check: (v: unknown): Partial<HealthCheckSettings> => (isRecord(v) ? (v as Partial<HealthCheckSettings>) : {}),
  },
  /** written by each successful push: the process types its app.json `formation` fixes (ps:scale refuses them) */
  'formation.appjson': {
    summary: 'the process types app.json formation sets',
    default: [] as string[],
    check: (v: unknown): string[] => (Array.isArray(v) && v.every(isString) ? v : bad('formation.appjson', 'a list of process types')),
  },
  resources: {
    summary: 'memory and CPU limits per process type',
    default: {} as ResourceTable,
    check: recordOf('resources', 'memory and CPU limits per process type', isLimits),
  },
  hardening: {
    summary: 'true or false: no-new-privileges, dropped capabilities and a pids limit on every container',
    default: true as boolean,
    check: (v: unknown): boolean => (typeof v === 'boolean' ? v : bad('hardening', 'true or false')),
  },
  'build-dir': {
    summary: 'the directory of the repository the app is built from (builder:set build-dir; absent: the root)',
    default: null as string | null,
    check: (v: unknown): string | null => (v === null || isString(v) ? (v as string | null) : bad('build-dir', 'a relative path')),
  },
  'dockerfile-path': {
    summary: 'the Dockerfile, relative to the build dir (builder:set dockerfile-path; absent: Dockerfile)',
    default: null as string | null,
    check: (v: unknown): string | null => (v === null || isString(v) ? (v as string | null) : bad('dockerfile-path', 'a relative path')),
  },
  port: {
    summary: 'the container port web traffic goes to (ports:set; absent: the single EXPOSEd port, else 5000)',
    default: null as number | null,
    check: (v: unknown): number | null =>
      v === null || (Number.isInteger(v) && (v as number) >= 1 && (v as number) <= 65535)
        ? (v as number | null)
        : bad('port', 'a port from 1 to 65535'),
  },
  'max-body-size': {
    summary: 'the max request body in bytes the proxy lets through (proxy:set max-body-size; absent: 100 MiB)',
    default: null as number | null,
    check: (v: unknown): number | null =>
      v === null ? null : Number.isInteger(v) && (v as number) >= 0 ? (v as number) : bad('max-body-size', 'a number of bytes'),
  },
  maintenance: {
    summary: 'the message of the 503 page while in maintenance (ps:maintenance; absent: serving)',
    default: null as string | null,
    check: (v: unknown): string | null => (v === null || typeof v === 'string' ? v : bad('maintenance', 'a message')),
  },
  'paused-until': {
    summary: 'epoch ms until which new requests are held (ps:pause; absent: not paused)',
    default: null as number | null,
    check: (v: unknown): number | null => (v === null || isCount(v) ? (v as number | null) : bad('paused-until', 'epoch milliseconds')),
  },
  'cron-timeout': {
    summary: 'seconds a cron run may take before it is stopped (cron:set timeout; default 24 h)',
    default: 86_400 as number,
    check: (v: unknown): number =>
      Number.isInteger(v) && (v as number) >= 1 && (v as number) <= 604_800
        ? (v as number)
        : bad('cron-timeout', 'seconds from 1 to 604800'),
  },
  mounts: {
    summary: 'Docker binds host:container[:ro]',
    default: [] as string[],
    check: (v: unknown): string[] => (Array.isArray(v) && v.every(isString) ? v : bad('mounts', 'a list of binds')),
  },
  scheduler: {
    summary: "where the app runs: 'local' (containers on this engine) or 'swarm' (services on the Swarm); absent: the global default",
    default: null as 'local' | 'swarm' | null,
    check: (v: unknown): 'local' | 'swarm' | null =>
      v === null || v === 'local' || v === 'swarm' ? (v as 'local' | 'swarm' | null) : bad('scheduler', "'local' or 'swarm'"),
  },
  placement: {
    summary: 'Swarm placement constraints of the app (ps:set placement; absent: none)',
    default: [] as string[],
    check: (v: unknown): string[] => (Array.isArray(v) && v.every(isString) ? v : bad('placement', 'a list of constraints')),
  },
  'keep-warm': {
    summary:
      'ms the previous release stays warm (paused) after a deploy, for an instant rollback (releases:set keep-warm; absent: the global default)',
    default: null as number | null,
    check: (v: unknown): number | null => (v === null || isCount(v) ? (v as number | null) : bad('keep-warm', 'a number of milliseconds')),
  },
  /** written by each rollout: the previous release's paused web containers and the end of their window (warm-release.ts) */
  warm: {
    summary: 'the warm release: its version, paused web containers and window end',
    default: null as WarmRecord | null,
    check: (v: unknown): WarmRecord | null => (v === null || isWarmRecord(v) ? (v as WarmRecord | null) : bad('warm', 'a warm record')),
  },
  /** written by a warm rollback: containers labelled with an older release that serve the live one */
  adopted: {
    summary: 'the containers of another release that serve the live one after a warm rollback',
    default: null as AdoptedRecord | null,
    check: (v: unknown): AdoptedRecord | null =>
      v === null || (isRecord(v) && isCount(v.release) && isIds(v.ids)) ? (v as AdoptedRecord | null) : bad('adopted', 'an adopted record'),
  },
} satisfies Record<string, SettingEntry<unknown>>;

export type SettingKey = keyof typeof SETTINGS;
export type SettingValue<K extends SettingKey> = ReturnType<(typeof SETTINGS)[K]['check']>;
/** All settings of one app, read at once. */
export type AppSettingsSnapshot = { [K in SettingKey]: SettingValue<K> };

export const SETTING_KEYS = Object.keys(SETTINGS) as SettingKey[];

/** `value` checked for `key` (throws SettingErrors.invalid). */
export function checkSetting<K extends SettingKey>(key: K, value: unknown): SettingValue<K> {
  return SETTINGS[key].check(value) as SettingValue<K>;
}

/** Stored JSON texts -> a typed snapshot; a missing, unknown or no longer valid value reads as its default. */
export function snapshotOf(stored: Record<string, string>): AppSettingsSnapshot {
  const out = {} as Record<SettingKey, unknown>;
  for (const key of SETTING_KEYS) {
    const text = stored[key];
    let value: unknown = SETTINGS[key].default;
    if (text !== undefined) {
      try {
        value = SETTINGS[key].check(JSON.parse(text));
      } catch {
        value = SETTINGS[key].default;
      }
    }
    out[key] = value;
  }
  return out as AppSettingsSnapshot;
}
