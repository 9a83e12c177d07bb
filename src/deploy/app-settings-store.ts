import { isDeepStrictEqual } from 'node:util';
import { type AppSettingsSnapshot, checkSetting, SETTINGS, type SettingKey, type SettingValue, snapshotOf } from './settings-schema.js';

/** The rows behind the settings: JSON texts per app and key (the app_settings table). */
export interface SettingsRows {
  all(app: string): Record<string, string>;
  set(app: string, key: string, json: string): void;
  unset(app: string, key: string): void;
}

/**
 * Typed access to per-app settings through the schema. No lock here: application services call
 * `write` while they hold the app lock; `snapshot` reads every setting in one query.
 */
export class AppSettingsStore {
  constructor(private readonly rows: SettingsRows) {}

  snapshot(app: string): AppSettingsSnapshot {
    return snapshotOf(this.rows.all(app));
  }

  get<K extends SettingKey>(app: string, key: K): SettingValue<K> {
    return this.snapshot(app)[key];
  }

  /** Checks and stores `value`; the default (or null) removes the row. */
  write<K extends SettingKey>(app: string, key: K, value: SettingValue<K>): void {
    const checked = checkSetting(key, value);
    if (checked === null || isDeepStrictEqual(checked, SETTINGS[key].default)) this.rows.unset(app, key);
    else this.rows.set(app, key, JSON.stringify(checked));
  }
}
