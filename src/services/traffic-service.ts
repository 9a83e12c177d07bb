import type { Logger } from '../log/logger.js';
import { parseDurationMs } from '../config/duration.js';
import type { AppSettingsStore } from '../deploy/app-settings-store.js';
import type { SettingValue } from '../deploy/settings-schema.js';
import { isAppError } from '../errors/app-error.js';
import type { ProxyReport, ServiceInfo } from '../proxy/control/proxy-client.js';
import { ProxyErrors } from '../proxy/proxy-errors.js';
import type { TrafficControls } from '../proxy/routing/service-spec.js';
import { TrafficErrors } from './traffic-errors.js';

/** The part of the proxy's client traffic controls use. */
export interface TrafficProxy {
  setControls(service: string, controls: TrafficControls): Promise<unknown>;
  report(): Promise<ProxyReport>;
}

export interface TrafficDeps {
  settings: Pick<AppSettingsStore, 'get' | 'write'>;
  proxy: TrafficProxy;
  log: Logger;
}

export const DEFAULT_MAINTENANCE_MESSAGE = 'This app is down for maintenance. Please try again in a few minutes.';
const DEFAULT_PAUSE_MS = 30_000;
const MAX_PAUSE_MS = 3_600_000;
const DEFAULT_BODY_BYTES = 100 * 1024 * 1024;
const SIZE_UNITS: Record<string, number> = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 };

/** "100m", "512k", "1g", "1048576" -> bytes (1 KiB to 100 GiB). */
export function parseBodySize(text: string): number {
  const m = /^(\d{1,9})([kmg]?)b?$/i.exec(text.trim());
  const bytes = m ? Number(m[1]) * SIZE_UNITS[m[2].toLowerCase()] : Number.NaN;
  if (!(bytes >= 1024 && bytes <= 100 * 1024 ** 3)) {
    throw TrafficErrors.usage(`max-body-size must be a size from 1k to 100g (e.g. 100m, 512k, 1g), got '${text}'`);
  }
  return bytes;
}

/** What proxy:report shows for one app. */
export interface AppTrafficReport {
  app: string;
  proxy: ProxyReport['status'];
  /** the proxy has a route for the app (it runs web containers) */
  routed: boolean;
  service: ServiceInfo | null;
  maintenance: string | null;
  pausedUntil: number | null;
  maxBodyBytes: number;
}

/**
 * Traffic controls users know from kamal-proxy: maintenance (503 with the app's message while its
 * containers keep running), pause (new requests held until resume or the deadline), the body limit,
 * and the proxy's report. Each is stored with the app (so a rollout that makes the route anew
 * carries it) and sent to the proxy at once (which persists it with its routes); no app lock: a
 * pause must apply at once, also during a deploy.
 */
export class TrafficService {
  constructor(private readonly deps: TrafficDeps) {}

  async maintenance(
    app: string,
    mode: string,
    message: string | undefined,
  ): Promise<{ on: boolean; message: string | null; applied: boolean }> {
    const m = mode.toLowerCase();
    if (m !== 'on' && m !== 'off') throw TrafficErrors.usage(`ps:maintenance takes on or off, got '${mode}'`);
    if (m === 'off' && message !== undefined) throw TrafficErrors.usage('--message goes with ps:maintenance on');
    const text = m === 'on' ? (message ?? DEFAULT_MAINTENANCE_MESSAGE).trim() : null;
    if (text !== null && (text === '' || text.length > 2000 || /[\u0000-\u0008\u000b-\u001f\u007f]/.test(text))) {
      throw TrafficErrors.usage('--message must be 1 to 2000 characters of text');
    }
    return { on: text !== null, message: text, applied: await this.change(app, 'maintenance', text) };
  }

  async pause(app: string, max: string | undefined): Promise<{ until: number; applied: boolean }> {
    const ms = max === undefined ? DEFAULT_PAUSE_MS : parseDurationMs(max, MAX_PAUSE_MS);
    if (ms === null || ms < 1000) throw TrafficErrors.usage(`--max must be a duration from 1s to 1h (e.g. 30s, 5m), got '${max}'`);
    const until = Date.now() + ms;
    return { until, applied: await this.change(app, 'paused-until', until) };
  }

  async resume(app: string): Promise<{ wasPaused: boolean; applied: boolean }> {
    const was = this.deps.settings.get(app, 'paused-until');
    return { wasPaused: was !== null && was > Date.now(), applied: await this.change(app, 'paused-until', null) };
  }

  async set(app: string, key: string, value: string): Promise<{ bytes: number; applied: boolean }> {
    if (key !== 'max-body-size') throw TrafficErrors.usage(`unknown proxy setting '${key}' (use max-body-size)`);
    const bytes = parseBodySize(value);
    return { bytes, applied: await this.change(app, 'max-body-size', bytes) };
  }

  async report(app: string): Promise<AppTrafficReport> {
    const r = await this.deps.proxy.report();
    const service = r.services.find((s) => s.name === app) ?? null;
    const paused = this.deps.settings.get(app, 'paused-until');
    return {
      app,
      proxy: r.status,
      routed: service !== null,
      service,
      maintenance: service?.maintenance ?? this.deps.settings.get(app, 'maintenance'),
      pausedUntil: service ? service.pausedUntil : paused !== null && paused > Date.now() ? paused : null,
      maxBodyBytes: service?.maxBodyBytes ?? this.deps.settings.get(app, 'max-body-size') ?? DEFAULT_BODY_BYTES,
    };
  }

  /** Stores one control and sends them all; when the proxy refuses, the stored value goes back to what it was. */
  private async change<K extends 'maintenance' | 'paused-until' | 'max-body-size'>(
    app: string,
    key: K,
    value: SettingValue<K>,
  ): Promise<boolean> {
    const before = this.deps.settings.get(app, key);
    this.deps.settings.write(app, key, value);
    try {
      return await this.push(app);
    } catch (err) {
      this.deps.settings.write(app, key, before);
      throw err;
    }
  }

  /** Sends the app's stored controls to the proxy; false when the app has no route yet (they apply when it gets one). */
  private async push(app: string): Promise<boolean> {
    const s = this.deps.settings;
    const maintenance = s.get(app, 'maintenance');
    const paused = s.get(app, 'paused-until');
    const body = s.get(app, 'max-body-size');
    const controls: TrafficControls = {
      ...(maintenance !== null ? { maintenance } : {}),
      ...(paused !== null && paused > Date.now() ? { pausedUntil: paused } : {}),
      ...(body !== null ? { maxBodyBytes: body } : {}),
    };
    try {
      await this.deps.proxy.setControls(app, controls);
      return true;
    } catch (err) {
      if (isAppError(err) && err.code === ProxyErrors.serviceNotFound.code) return false;
      throw err;
    }
  }
}
