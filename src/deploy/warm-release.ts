import { isDeepStrictEqual } from 'node:util';
import type { Logger } from '../log/logger.js';
import type { Release } from '../state/releases-repository.js';
import type { SettingsRepository } from '../state/settings-repository.js';
import type { ContainerInfo, RuntimePort } from './adapter-interfaces.js';
import type { AppSettingsStore } from './app-settings-store.js';
import type { WarmRecord } from './settings-schema.js';

/** How long the previous release stays warm after a deploy unless `releases:set keep-warm` says otherwise: the span in which a bad deploy is usually noticed. */
export const DEFAULT_KEEP_WARM_MS = 10 * 60_000;
/** The longest window a setting may hold. */
export const MAX_KEEP_WARM_MS = 24 * 3600_000;
/** The global setting (`releases:set --global keep-warm`), in ms. */
export const KEEP_WARM_GLOBAL_KEY = 'releases.keep-warm';

export interface WarmReleaseDeps {
  settings: Pick<AppSettingsStore, 'get' | 'write'>;
  globals: Pick<SettingsRepository, 'get'>;
  releases: { get(app: string, version: number): Release | undefined };
  runtime: Pick<RuntimePort, 'pause' | 'unpause'>;
  log: Logger;
  now?: () => number;
}

/** What must match for warm containers to serve a release as if started for it. */
const contentOf = (r: Release) => ({ image: r.image, config: r.config, processes: r.processes, port: r.port });

/**
 * The previous release kept warm for an instant rollback. After a cutover the previous release's
 * web containers, already drained and out of the proxy's targets, are paused (cgroup freezer:
 * they keep their memory and address, use no CPU and can do nothing, so a frozen release never
 * serves, writes or runs jobs); their ids and the window's end are recorded in the app's `warm`
 * setting. A rollback to a release with the same image, config, processes and port inside the
 * window thaws them instead of starting containers, and goes through the same health gate.
 *
 * Convergence neither counts them as replicas nor removes them as strays while the window is
 * open and every one of them is still paused; past the window (a timer, and the recovery at
 * start-up) or once one of them is gone or was restarted, the record is dropped and they are
 * removed as strays. Callers hold the app lock for every write.
 */
export class WarmReleases {
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private onExpire: ((app: string) => void) | null = null;
  private readonly now: () => number;

  constructor(private readonly deps: WarmReleaseDeps) {
    this.now = deps.now ?? Date.now;
  }

  /** The app's window in ms: its own setting, else the global one, else DEFAULT_KEEP_WARM_MS; 0 is off. */
  keepWarmMs(app: string): number {
    return this.deps.settings.get(app, 'keep-warm') ?? this.globalKeepWarmMs();
  }

  globalKeepWarmMs(): number {
    const g = Number(this.deps.globals.get(KEEP_WARM_GLOBAL_KEY) ?? Number.NaN);
    return Number.isInteger(g) && g >= 0 ? g : DEFAULT_KEEP_WARM_MS;
  }

  /** The app's warm record while its window is open (else null; nothing is written). */
  current(app: string): WarmRecord | null {
    const r = this.deps.settings.get(app, 'warm');
    return r && r.until > this.now() ? r : null;
  }

  /**
   * The ids convergence must leave alone: the warm containers while the window is open and each
   * is still paused. Otherwise the record is dropped and they are strays like any other.
   */
  held(app: string, all: ContainerInfo[]): Set<string> {
    const r = this.deps.settings.get(app, 'warm');
    if (!r) return new Set();
    const paused = r.ids.every((id) => all.some((c) => c.id === id && c.state === 'paused'));
    if (r.until > this.now() && paused) return new Set(r.ids);
    this.deps.log.info({ app, release: r.release, expired: r.until <= this.now() }, 'warm release dropped');
    this.clear(app);
    return new Set();
  }

  /** After a warm rollback: containers of another release that serve live release `release`. */
  adopted(app: string, release: number): Set<string> {
    const a = this.deps.settings.get(app, 'adopted');
    return new Set(a && a.release === release ? a.ids : []);
  }

  adopt(app: string, release: number, ids: string[]): void {
    this.deps.settings.write(app, 'adopted', ids.length ? { release, ids } : null);
  }

  /**
   * The warm web containers that can serve `release` now, or why not (a line for the user): the
   * window is open, the warm release has the same image, config, processes and port, every warm
   * container is still paused, and there are as many as the release's web formation.
   */
  claim(app: string, release: Release, all: ContainerInfo[]): ContainerInfo[] | string {
    const r = this.deps.settings.get(app, 'warm');
    if (!r) return 'no release is warm';
    if (r.until <= this.now()) return `the window of v${r.release} has ended`;
    const warm = this.deps.releases.get(app, r.release);
    if (!warm || !isDeepStrictEqual(contentOf(warm), contentOf(release))) return `v${r.release} is warm, not this release`;
    const cs = r.ids.map((id) => all.find((c) => c.id === id));
    if (cs.some((c) => c?.state !== 'paused' || !c.ip)) return `the warm containers of v${r.release} are gone or were restarted`;
    if (cs.length !== (release.formation.web ?? 0))
      return `v${r.release} has ${cs.length} warm web container(s), the rollback wants ${release.formation.web ?? 0}`;
    return cs as ContainerInfo[];
  }

  /** Thaws `cs` (claimed); they are running again as far as the caller's infos go. */
  async thaw(cs: ContainerInfo[]): Promise<ContainerInfo[]> {
    await Promise.all(cs.map((c) => this.deps.runtime.unpause(c.id)));
    return cs.map((c) => ({ ...c, state: 'running' }));
  }

  /**
   * Pauses `cs` (web containers of `release`, drained) and records them warm for the app's
   * window. Returns the ones paused; on any failure none is recorded and all are returned to
   * the caller to stop (empty).
   */
  async park(app: string, release: number, cs: ContainerInfo[]): Promise<ContainerInfo[]> {
    const ms = this.keepWarmMs(app);
    if (ms === 0 || cs.length === 0) {
      this.clear(app);
      return [];
    }
    try {
      await Promise.all(cs.map((c) => this.deps.runtime.pause(c.id)));
    } catch (err) {
      this.deps.log.warn({ err, app, release }, 'pausing the previous release failed; it is stopped instead');
      this.clear(app);
      return [];
    }
    const until = this.now() + ms;
    this.deps.settings.write(app, 'warm', { release, until, ids: cs.map((c) => c.id) });
    this.arm(app, until);
    return cs;
  }

  clear(app: string): void {
    if (this.deps.settings.get(app, 'warm') !== null) this.deps.settings.write(app, 'warm', null);
    const t = this.timers.get(app);
    if (t) clearTimeout(t);
    this.timers.delete(app);
  }

  /**
   * Starts the window timers: `expire(app)` converges the app (under its lock), which removes the
   * warm containers once their window has ended. Arms one timer per app with a record.
   */
  start(apps: string[], expire: (app: string) => void, signal: AbortSignal): void {
    this.onExpire = expire;
    signal.addEventListener(
      'abort',
      () => {
        for (const t of this.timers.values()) clearTimeout(t);
        this.timers.clear();
        this.onExpire = null;
      },
      { once: true },
    );
    for (const app of apps) {
      const r = this.deps.settings.get(app, 'warm');
      if (r) this.arm(app, r.until);
    }
  }

  /** Ends the app's window now (keep-warm set to 0): its containers go at the convergence that follows. */
  end(app: string): void {
    const r = this.deps.settings.get(app, 'warm');
    if (!r) return;
    this.deps.settings.write(app, 'warm', { ...r, until: this.now() });
    this.arm(app, this.now());
  }

  private arm(app: string, until: number): void {
    const old = this.timers.get(app);
    if (old) clearTimeout(old);
    if (!this.onExpire) return;
    const t = setTimeout(
      () => {
        this.timers.delete(app);
        this.onExpire?.(app);
      },
      Math.max(0, until - this.now()) + 50,
    );
    t.unref();
    this.timers.set(app, t);
  }
}
