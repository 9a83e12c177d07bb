import { AppLogsErrors } from './app-logs-errors.js';
import { parseDrainUrl } from './drain-url.js';
import { DEFAULT_RETENTION, type LogRetention, parseLogAge, parseLogSize } from './log-retention.js';

/** The rows these settings live in: per app in app_settings (JSON values), the host's defaults in settings. */
export interface LogSettingsRows {
  app: {
    all(app: string): Record<string, string>;
    set(app: string, key: string, json: string): void;
    unset(app: string, key: string): void;
  };
  global: { get(key: string): string | undefined; set(key: string, value: string): void };
}

export const LOG_SETTING_KEYS = ['max-size', 'max-age', 'drain'] as const;
export type LogSettingKey = (typeof LOG_SETTING_KEYS)[number];

const ROW = (k: LogSettingKey) => `logs.${k}`;
const CACHE_MS = 5000;

/** What `logs:set` stores and `logs:report` shows for one app. */
export interface AppLogSettings {
  retention: LogRetention;
  /** which caps are the app's own (the rest come from the host's defaults) */
  own: { maxSize: boolean; maxAge: boolean };
  drain: string | null;
}

/**
 * An app's log retention and drain: `logs:set APP max-size 100m|max-age 7d|drain URL`, with
 * `--global` defaults for the caps. A value left out (or `default`) goes back to the default.
 * Read on every append, so kept in memory for a few seconds.
 */
export class LogSettings {
  private readonly cache = new Map<string, { at: number; v: AppLogSettings }>();

  constructor(
    private readonly rows: LogSettingsRows,
    private readonly now: () => number = Date.now,
  ) {}

  of(app: string): AppLogSettings {
    const hit = this.cache.get(app);
    if (hit && this.now() - hit.at < CACHE_MS) return hit.v;
    const all = this.rows.app.all(app);
    const num = (k: LogSettingKey) => {
      const v = all[ROW(k)] === undefined ? undefined : (JSON.parse(all[ROW(k)]!) as unknown);
      return typeof v === 'number' ? v : null;
    };
    const defaults = this.defaults();
    const size = num('max-size');
    const age = num('max-age');
    const drain = all[ROW('drain')] === undefined ? null : (JSON.parse(all[ROW('drain')]!) as string);
    const v: AppLogSettings = {
      retention: { maxBytes: size ?? defaults.maxBytes, maxAgeMs: age ?? defaults.maxAgeMs },
      own: { maxSize: size !== null, maxAge: age !== null },
      drain: typeof drain === 'string' ? drain : null,
    };
    this.cache.set(app, { at: this.now(), v });
    return v;
  }

  defaults(): LogRetention {
    const g = (k: LogSettingKey) => {
      const v = this.rows.global.get(ROW(k));
      return v && /^\d+$/.test(v) ? Number(v) : null;
    };
    return { maxBytes: g('max-size') ?? DEFAULT_RETENTION.maxBytes, maxAgeMs: g('max-age') ?? DEFAULT_RETENTION.maxAgeMs };
  }

  /** Checks and stores one setting of an app; returns the stored value (null: back to the default / no drain). */
  setApp(app: string, key: string, value: string | undefined): number | string | null {
    const k = checkKey(key, false);
    const reset = value === undefined || value === '' || value === 'default' || (k === 'drain' && value === 'off');
    const parsed = reset ? null : k === 'max-size' ? parseLogSize(value) : k === 'max-age' ? parseLogAge(value) : parseDrainUrl(value).url;
    if (parsed === null) this.rows.app.unset(app, ROW(k));
    else this.rows.app.set(app, ROW(k), JSON.stringify(parsed));
    this.cache.clear();
    return parsed;
  }

  /** The host's default caps: `logs:set --global max-size SIZE|max-age DURATION`. */
  setGlobal(key: string, value: string | undefined): number | null {
    const k = checkKey(key, true);
    const reset = value === undefined || value === '' || value === 'default';
    const parsed = reset ? null : k === 'max-size' ? parseLogSize(value) : parseLogAge(value);
    this.rows.global.set(ROW(k), parsed === null ? '' : String(parsed));
    this.cache.clear();
    return parsed;
  }
}

function checkKey(key: string, global: boolean): LogSettingKey {
  const keys = global ? LOG_SETTING_KEYS.filter((k) => k !== 'drain') : LOG_SETTING_KEYS;
  if (!(keys as readonly string[]).includes(key))
    throw AppLogsErrors.usage(`unknown logs setting '${key}' (use ${keys.join(', ')}); nothing was changed`);
  return key as LogSettingKey;
}
