import type { Rollout } from './rollout.js';
import type { StageOutput } from './stage-output.js';
import type { FormationRepository } from '../state/formation-repository.js';

export interface ConvergeDeps {
  formation: Pick<FormationRepository, 'all' | 'replace'>;
  rollout: Pick<Rollout, 'converge'>;
}

/** Stores `formation` and converges to it health-gated; on failure `before` is stored again and the error rethrown. */
export async function convergeTo(
  deps: ConvergeDeps,
  app: string,
  formation: Record<string, number>,
  before: Record<string, number>,
  stage: StageOutput,
  signal: AbortSignal,
): Promise<void> {
  deps.formation.replace(app, formation);
  try {
    await deps.rollout.converge(app, stage, signal);
  } catch (err) {
    deps.formation.replace(app, before);
    throw err;
  }
}

/** `web=2 worker=1`, or `(no processes)`. */
export function formatFormation(formation: Record<string, number>): string {
  return (
    Object.entries(formation)
      .map(([p, n]) => `${p}=${n}`)
      .join(' ') || '(no processes)'
  );
}
