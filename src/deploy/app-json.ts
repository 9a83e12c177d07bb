import { type CronEntry, parseCronEntries } from '../cron/cron-task.js';
import { PROCESS_TYPE_RE } from '../runtime/container-naming.js';
import { DeployErrors } from './deploy-errors.js';

export interface HealthCheckSettings {
  /** HTTP path; null = the port accepts connections and the container stays up */
  path: string | null;
  /** seconds per probe */
  timeout: number;
  /** probes before giving up */
  attempts: number;
  /** seconds to wait before the first probe (and uptime required without a path) */
  wait: number;
}

export const DEFAULT_CHECKS: HealthCheckSettings = { path: null, timeout: 5, attempts: 60, wait: 2 };

export interface AppJson {
  healthcheck: Partial<HealthCheckSettings> | null;
  formation: Record<string, number>;
  /** scripts.dokku.predeploy: before any container starts; its filesystem changes are committed into the image */
  predeploy: string | null;
  /** scripts.dokku.postdeploy: after the switch, while the previous release is warm; failing rolls back */
  postdeploy: string | null;
  /** scripts.postdeploy (top level): once, after the app's first successful deploy */
  firstDeploy: string | null;
  /** Dokku's `cron` tasks (src/cron): checked here, so a bad one fails the push before anything is deployed */
  cron: CronEntry[];
}

/** Reads the parts of Dokku's app.json that paas honours: healthchecks.web, formation, scripts.dokku, scripts.postdeploy, cron. */
export function parseAppJson(text: string): AppJson {
  let raw: Record<string, unknown>;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw DeployErrors.appJson(`not valid JSON (${(e as Error).message})`);
  }
  const result: AppJson = { healthcheck: null, formation: {}, predeploy: null, postdeploy: null, firstDeploy: null, cron: [] };
  const checks = (raw.healthchecks as Record<string, unknown> | undefined)?.web;
  if (Array.isArray(checks) && checks.length) {
    const c = checks.find((x) => x && (x.type === undefined || x.type === 'startup' || x.type === 'readiness')) ?? checks[0];
    result.healthcheck = {
      ...(typeof c.path === 'string' ? { path: c.path } : {}),
      ...(Number.isFinite(c.timeout) ? { timeout: Number(c.timeout) } : {}),
      ...(Number.isFinite(c.attempts) ? { attempts: Number(c.attempts) } : {}),
      ...(Number.isFinite(c.wait) ? { wait: Number(c.wait) } : {}),
    };
  }
  const formation = raw.formation as Record<string, { quantity?: unknown }> | undefined;
  if (formation && typeof formation === 'object') {
    for (const [p, v] of Object.entries(formation)) {
      if (!PROCESS_TYPE_RE.test(p))
        throw DeployErrors.appJson(
          `formation has an invalid process type '${p.slice(0, 60)}' (letters, digits, '_' and '-', as in apps:scale)`,
        );
      const q = Number(v?.quantity);
      if (!Number.isInteger(q) || q < 0) throw DeployErrors.appJson(`formation.${p}.quantity must be a whole number >= 0`);
      result.formation[p] = q;
    }
  }
  const scripts = raw.scripts as { dokku?: { predeploy?: unknown; postdeploy?: unknown }; postdeploy?: unknown } | undefined;
  result.predeploy = script(scripts?.dokku?.predeploy, 'scripts.dokku.predeploy');
  result.postdeploy = script(scripts?.dokku?.postdeploy, 'scripts.dokku.postdeploy');
  result.firstDeploy = script(scripts?.postdeploy, 'scripts.postdeploy');
  result.cron = parseCronEntries(raw.cron);
  return result;
}

/** A deployment task: absent or empty is none; anything but a string is refused rather than silently skipped. */
function script(v: unknown, name: string): string | null {
  if (v === undefined || v === null) return null;
  if (typeof v !== 'string') throw DeployErrors.appJson(`${name} must be a command string`);
  return v.trim() || null;
}

/** Refuses an app.json formation above the app's max replicas per process type, as `apps:scale` does. */
export function checkFormationMax(formation: Record<string, number>, max: number): void {
  for (const [p, q] of Object.entries(formation)) {
    if (q > max)
      throw DeployErrors.appJson(`formation.${p}.quantity ${q} is more than this app's max replicas ${max} (ps:set max-replicas)`);
  }
}
