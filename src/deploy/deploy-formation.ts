import type { AppJson } from './app-json.js';

/**
 * The formation a deploy runs:
 * - the app's own (`ps:scale`, including what was set before the first deploy);
 * - `web=1` at the first deploy when nothing set web;
 * - every Procfile type, at 0 unless set;
 * - app.json `formation` over all of it, at every deploy: as in Dokku, it is the source of truth
 *   for the types it names (and `ps:scale` refuses them, see `lockedTypes`).
 */
export function deployFormation(
  current: Record<string, number>,
  first: boolean,
  processes: Record<string, string>,
  appJson: AppJson | null,
): Record<string, number> {
  const f = { ...current };
  if (first) f.web ??= 1;
  for (const p of Object.keys(processes)) f[p] ??= 0;
  return Object.assign(f, appJson?.formation ?? {});
}

/** The process types app.json `formation` fixes (the setting `formation.appjson` keeps them from the last deploy). */
export function lockedTypes(appJson: AppJson | null): string[] {
  return Object.keys(appJson?.formation ?? {}).sort();
}
