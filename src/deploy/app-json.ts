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
  predeploy: string | null;
  postdeploy: string | null;
}

/** Reads the parts of Dokku's app.json that paas honours: healthchecks.web, formation, scripts.dokku. */
export function parseAppJson(text: string): AppJson {
  let raw: Record<string, unknown>;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw DeployErrors.appJson(`not valid JSON (${(e as Error).message})`);
  }
  const result: AppJson = { healthcheck: null, formation: {}, predeploy: null, postdeploy: null };
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
  const dokku = (raw.scripts as { dokku?: { predeploy?: unknown; postdeploy?: unknown } } | undefined)?.dokku;
  if (typeof dokku?.predeploy === 'string') result.predeploy = dokku.predeploy;
  if (typeof dokku?.postdeploy === 'string') result.postdeploy = dokku.postdeploy;
  return result;
}

/** Refuses an app.json formation above the app's max replicas per process type, as `apps:scale` does. */
export function checkFormationMax(formation: Record<string, number>, max: number): void {
  for (const [p, q] of Object.entries(formation)) {
    if (q > max)
      throw DeployErrors.appJson(`formation.${p}.quantity ${q} is more than this app's max replicas ${max} (ps:set max-replicas)`);
  }
}
