import type { Writable } from 'node:stream';
import type { AppSettingsStore } from '../deploy/app-settings-store.js';
import type { ReleaseManager } from '../deploy/release-manager.js';
import { StageOutput } from '../deploy/stage-output.js';
import type { ConfigRepository } from '../state/config-repository.js';
import type { FormationRepository } from '../state/formation-repository.js';
import type { Release, ReleasesRepository } from '../state/releases-repository.js';
import { type Locks, underLock } from '../deploy/app-locks.js';
import { ConfigErrors } from './config-errors.js';

export interface ConfigDeps {
  config: Pick<ConfigRepository, 'all' | 'replace'>;
  releases: Pick<ReleasesRepository, 'current' | 'create'>;
  formation: Pick<FormationRepository, 'all'>;
  settings: Pick<AppSettingsStore, 'get'>;
  deriver: Pick<ReleaseManager, 'derive'>;
  locks: Locks;
}

export interface ConfigChange {
  /** the new release; null before the first deploy or when nothing changed */
  release: Release | null;
  changed: string[];
  rolledOut: boolean;
}

/**
 * Config vars. A change makes a release with the same image and rolls it out health-gated, under
 * the app lock. `--no-restart` (or a stopped app) stores the config and records a `pending`
 * release instead: the next rollout picks it up (a push builds with the stored config,
 * `ps:restart` activates the newest pending release).
 */
export class ConfigService {
  constructor(private readonly deps: ConfigDeps) {}

  all(app: string): Record<string, string> {
    return this.deps.config.all(app);
  }

  get(app: string, key: string): string {
    const all = this.deps.config.all(app);
    if (!(key in all)) throw ConfigErrors.notSet(`config var ${key} is not set on '${app}'`);
    return all[key]!;
  }

  change(
    app: string,
    set: Record<string, string>,
    unset: string[],
    opts: { noRestart: boolean; guard?: (current: Record<string, string>) => void },
    out: Writable,
    signal: AbortSignal,
  ): Promise<ConfigChange> {
    const d = this.deps;
    return underLock(d.locks, app, 'a config change', out, signal, async () => {
      const current = d.config.all(app);
      // a caller's check of the current config, under the lock (add-on links refuse a taken variable)
      opts.guard?.(current);
      const next = { ...current, ...set };
      for (const k of unset) delete next[k];
      const changed = [...new Set([...Object.keys(set), ...unset])].filter((k) => current[k] !== next[k]);
      if (changed.length === 0) return { release: null, changed, rolledOut: false };
      const description = describeConfig(set, unset, changed);
      const live = d.releases.current(app);
      if (!live) {
        d.config.replace(app, next);
        return { release: null, changed, rolledOut: false };
      }
      if (opts.noRestart || d.settings.get(app, 'stopped') !== null) {
        const r = d.releases.create({
          app,
          image: live.image,
          commitSha: live.commitSha,
          description: `${description} (not rolled out)`,
          config: next,
          formation: d.formation.all(app),
          status: 'pending',
          builder: live.builder,
          processes: live.processes,
          port: live.port,
          appChecks: live.appChecks,
          sourceImage: live.sourceImage,
          formationLock: live.formationLock,
        });
        d.config.replace(app, next);
        return { release: r, changed, rolledOut: false };
      }
      const stage = new StageOutput(out);
      const r = await d.deriver.derive(app, live, { config: next }, description, stage, signal);
      d.config.replace(app, next);
      stage.end();
      return { release: r, changed, rolledOut: true };
    });
  }
}

function describeConfig(set: Record<string, string>, unset: string[], changed: string[]): string {
  const s = Object.keys(set).filter((k) => changed.includes(k));
  const u = unset.filter((k) => changed.includes(k));
  return [s.length ? `Set ${s.join(', ')}` : '', u.length ? `Unset ${u.join(', ')}` : ''].filter(Boolean).join('; ');
}
