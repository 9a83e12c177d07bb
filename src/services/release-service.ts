import fs from 'node:fs';
import type { Writable } from 'node:stream';
import { parseReleaseVersion } from '../contracts/names.js';
import type { AppSettingsStore } from '../deploy/app-settings-store.js';
import { DeployErrors } from '../deploy/deploy-errors.js';
import type { RuntimePort } from '../deploy/adapter-interfaces.js';
import type { ReleaseManager } from '../deploy/release-manager.js';
import { StageOutput } from '../deploy/stage-output.js';
import type { ConfigRepository } from '../state/config-repository.js';
import type { FormationRepository } from '../state/formation-repository.js';
import type { Release, ReleasesRepository } from '../state/releases-repository.js';
import { type Locks, underLock } from '../deploy/app-locks.js';
import { ReleaseErrors } from './release-errors.js';
import { parseDurationMs } from '../config/duration.js';
import type { SettingsRepository } from '../state/settings-repository.js';
import { KEEP_WARM_GLOBAL_KEY, MAX_KEEP_WARM_MS, type WarmReleases } from '../deploy/warm-release.js';

/** What `releases:set` sets. */
export const RELEASE_SETTING_KEYS = ['keep-warm'] as const;

/** `10m`, `90s`, `1h`, `0` (off) -> ms; anything else is one line and changes nothing. */
export function parseKeepWarm(text: string | undefined): number {
  const ms = text === undefined ? null : parseDurationMs(text, MAX_KEEP_WARM_MS);
  if (ms === null)
    throw ReleaseErrors.setting(
      `keep-warm must be a duration up to 24h such as 10m, 90s or 1h, or 0 for off, got '${text ?? ''}'; nothing was changed`,
    );
  return ms;
}

/** `600000` -> `10m`, `90000` -> `90s`, `0` -> `0 (off)`. */
export function formatKeepWarm(ms: number): string {
  if (ms === 0) return '0 (off)';
  if (ms % 3_600_000 === 0) return `${ms / 3_600_000}h`;
  if (ms % 60_000 === 0) return `${ms / 60_000}m`;
  if (ms % 1000 === 0) return `${ms / 1000}s`;
  return `${ms}ms`;
}

export interface ReleaseServiceDeps {
  releases: Pick<ReleasesRepository, 'current' | 'get' | 'list'>;
  config: Pick<ConfigRepository, 'replace'>;
  formation: Pick<FormationRepository, 'all' | 'replace'>;
  settings: Pick<AppSettingsStore, 'get' | 'write'>;
  deriver: Pick<ReleaseManager, 'derive'>;
  runtime: Pick<RuntimePort, 'imageExists'>;
  locks: Locks;
  /** the previous release kept warm for an instant rollback */
  warm: Pick<WarmReleases, 'keepWarmMs' | 'current' | 'end'>;
  globals: Pick<SettingsRepository, 'set'>;
  /** where the deploy output of a release is kept */
  logPath(app: string, version: number): string;
}

/** `vN` (or `N`) typed by a user -> N; anything else is a usage error. */
export function releaseArg(text: string): number {
  const v = parseReleaseVersion(text);
  if (v === null) throw ReleaseErrors.usage(`'${text}' is not a release version (e.g. v3)`);
  return v;
}

/** Release history, deploy logs, and rollback (image + config + formation of an earlier release, one cutover, no rebuild). */
export class ReleaseService {
  constructor(private readonly deps: ReleaseServiceDeps) {}

  list(app: string, limit: number): Release[] {
    return this.deps.releases.list(app, limit);
  }

  /** The deploy output kept with release `version` (default: the newest release). */
  log(app: string, version: number | null): Buffer {
    const v = version ?? this.deps.releases.list(app, 1)[0]?.version;
    if (v === undefined) throw ReleaseErrors.none(`app '${app}' has no releases yet`);
    if (!this.deps.releases.get(app, v)) throw ReleaseErrors.notFound(`app '${app}' has no release v${v}`);
    const file = this.deps.logPath(app, v);
    if (!fs.existsSync(file)) throw ReleaseErrors.noLog(`release v${v} of '${app}' has no deploy log (only pushes record one)`);
    return fs.readFileSync(file);
  }

  /** Restores `version` (default: the release live before the current one). */
  rollback(
    app: string,
    version: number | null,
    out: Writable,
    signal: AbortSignal,
  ): Promise<{ from: number; to: Release; release: Release }> {
    const d = this.deps;
    return underLock(d.locks, app, 'a rollback', out, signal, async () => {
      const live = d.releases.current(app);
      if (!live) throw DeployErrors.noRelease(app);
      const target = this.target(app, live, version);
      if (!(await d.runtime.imageExists(target.image!))) throw DeployErrors.imageGone(app, target.version, target.image!);
      // a release that recorded no formation takes the app's: for a stopped app, the one ps:stop saved
      // (its live formation is all zeros, and the rollback starts it again)
      const current = d.settings.get(app, 'stopped') ?? d.formation.all(app);
      const formation = Object.keys(target.formation).length ? target.formation : current;
      const stage = new StageOutput(out);
      stage.stage('rollback', `Rolling back ${app} from v${live.version} to v${target.version} (${target.image})`);
      const { image, config, processes, port, appChecks, sourceImage, commitSha, formationLock } = target;
      const r = await d.deriver.derive(
        app,
        live,
        { image, config, formation, processes, port, appChecks, sourceImage, commitSha, formationLock },
        `Rollback to v${target.version}`,
        stage,
        signal,
        { warm: true },
      );
      d.config.replace(app, target.config);
      d.formation.replace(app, formation);
      // the release's app.json formation lock comes back with it (unknown for releases older than schema v8: kept)
      if (formationLock !== null) d.settings.write(app, 'formation.appjson', formationLock);
      d.settings.write(app, 'stopped', null);
      stage.end();
      return { from: live.version, to: target, release: r };
    });
  }

  /** The release kept warm and until when (epoch ms), while its window is open. */
  warm(app: string): { release: number; until: number } | null {
    const w = this.deps.warm.current(app);
    return w ? { release: w.release, until: w.until } : null;
  }

  keepWarmMs(app: string): number {
    return this.deps.warm.keepWarmMs(app);
  }

  /** `releases:set [app] keep-warm DURATION`: applies from the next deploy; 0 also ends the current window. */
  async setKeepWarm(app: string, value: string | undefined, out: Writable, signal: AbortSignal): Promise<number> {
    const ms = parseKeepWarm(value);
    const d = this.deps;
    return underLock(d.locks, app, 'a keep-warm change', out, signal, async () => {
      d.settings.write(app, 'keep-warm', ms);
      if (ms === 0) d.warm.end(app);
      return ms;
    });
  }

  /** `releases:set --global keep-warm DURATION`: the default of apps without their own. */
  setGlobalKeepWarm(value: string | undefined): number {
    const ms = parseKeepWarm(value);
    this.deps.globals.set(KEEP_WARM_GLOBAL_KEY, String(ms));
    return ms;
  }

  private target(app: string, live: Release, version: number | null): Release {
    if (version === null) {
      const t = this.deps.releases
        .list(app, 10_000)
        .find((r) => r.version < live.version && r.image && (r.status === 'superseded' || r.status === 'live'));
      if (!t) throw ReleaseErrors.noTarget(`app '${app}' has no earlier release to roll back to`);
      return t;
    }
    const t = this.deps.releases.get(app, version);
    if (!t) throw DeployErrors.releaseNotFound(app, `v${version}`);
    if (!t.image) throw ReleaseErrors.noImage(`release v${version} of '${app}' never built an image; pick another`);
    if (t.version === live.version) throw ReleaseErrors.same(`v${live.version} is already live`);
    return t;
  }
}
