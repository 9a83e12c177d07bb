import type { Writable } from 'node:stream';
import type { AppSettingsStore } from '../deploy/app-settings-store.js';
import { parseScaleArgs } from '../inputs/operation-inputs.js';
import { StageOutput } from '../deploy/stage-output.js';
import type { ReleasesRepository } from '../state/releases-repository.js';
import { type Locks, underLock } from '../deploy/app-locks.js';
import { ProcessErrors } from './process-errors.js';
import { type ConvergeDeps, convergeTo, formatFormation } from '../deploy/converge-to.js';

export interface FormationDeps extends ConvergeDeps {
  releases: Pick<ReleasesRepository, 'current' | 'update'>;
  settings: Pick<AppSettingsStore, 'get' | 'write'>;
  locks: Locks;
}

export interface ScaleResult {
  formation: Record<string, number>;
  /** rolled out now; false before the first deploy or while the app is stopped */
  applied: boolean;
  stopped: boolean;
}

/** The formation (containers per process type) and `apps:scale`. */
export class FormationService {
  constructor(private readonly deps: FormationDeps) {}

  formation(app: string): Record<string, number> {
    return this.deps.formation.all(app);
  }

  /** Process types `apps:scale` accepts: web, the live release's Procfile types and the formation's; null before the first deploy. */
  knownProcesses(app: string): Set<string> | null {
    const live = this.deps.releases.current(app);
    if (!live) return null;
    return new Set(['web', ...Object.keys(live.processes), ...Object.keys(live.formation), ...Object.keys(this.deps.formation.all(app))]);
  }

  /** Process types app.json `formation` sets as of the last deploy: `ps:scale` refuses them (ps:report: can-scale false). */
  lockedTypes(app: string): string[] {
    return this.deps.settings.get(app, 'formation.appjson');
  }

  /** Parses `web=3 worker=0` against the app's process types and replica cap, then scales: health-gated, restored on failure. */
  async scale(app: string, args: string[], out: Writable, signal: AbortSignal): Promise<ScaleResult> {
    const d = this.deps;
    const changes = parseScaleArgs(args, this.knownProcesses(app), d.settings.get(app, 'max-replicas'));
    const locked = this.lockedTypes(app);
    const refused = Object.keys(changes).filter((p) => locked.includes(p));
    if (refused.length)
      throw ProcessErrors.formationLocked(
        `${refused.join(', ')} ${refused.length > 1 ? 'are' : 'is'} set by app.json formation (${locked.join(', ')}): change app.json and push; nothing was changed`,
      );
    return underLock(d.locks, app, 'a scale', out, signal, async () => {
      const stopped = d.settings.get(app, 'stopped');
      if (stopped) {
        const formation = { ...stopped, ...changes };
        d.settings.write(app, 'stopped', formation);
        return { formation, applied: false, stopped: true };
      }
      const before = d.formation.all(app);
      const formation = { ...before, ...changes };
      const live = d.releases.current(app);
      if (!live) {
        d.formation.replace(app, formation);
        return { formation, applied: false, stopped: false };
      }
      const stage = new StageOutput(out);
      stage.stage('scale', `Scaling ${app} to ${formatFormation(formation)}`);
      await convergeTo(d, app, formation, before, stage, signal);
      d.releases.update(app, live.version, { formation });
      stage.end();
      return { formation, applied: true, stopped: false };
    });
  }
}
