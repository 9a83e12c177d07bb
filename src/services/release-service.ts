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

export interface ReleaseServiceDeps {
  releases: Pick<ReleasesRepository, 'current' | 'get' | 'list'>;
  config: Pick<ConfigRepository, 'replace'>;
  formation: Pick<FormationRepository, 'all' | 'replace'>;
  settings: Pick<AppSettingsStore, 'get' | 'write'>;
  deriver: Pick<ReleaseManager, 'derive'>;
  runtime: Pick<RuntimePort, 'imageExists'>;
  locks: Locks;
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
