/**
 * When an app may place its next certificate order. Let's Encrypt limits what one registered
 * domain gets (50 certificates a week, 5 duplicates a week, 5 failed validations an hour per
 * account and name), so a key that may order for one app must not spend them for every app:
 * - backoff: after a failed order, none before the retry time the failure set (the ACME server's
 *   retry-after, or the doubling backoff), whoever asks, the scheduler and admins included;
 * - budget: at most `maxIssued` certificates per app in any `windowMs` (a rolling week);
 * - spacing: a forced re-order (`letsencrypt:renew --force`, the same names again) at most once per
 *   `forceSpacingMs`.
 * Admin keys skip the budget and the spacing, never the backoff.
 */

export interface OrderPolicy {
  maxIssued: number;
  windowMs: number;
  forceSpacingMs: number;
}

export const DEFAULT_ORDER_POLICY: OrderPolicy = { maxIssued: 5, windowMs: 7 * 86_400_000, forceSpacingMs: 3_600_000 };

/** One order placed with the ACME server. */
export interface PastOrder {
  at: number;
  forced: boolean;
  issued: boolean;
}

export interface OrderRequest {
  forced: boolean;
  /** an admin key: not held to the budget or the spacing */
  admin: boolean;
}

export type Refusal =
  | { reason: 'backoff'; allowedAt: number }
  | { reason: 'budget'; allowedAt: number; issued: number }
  | { reason: 'spacing'; allowedAt: number; lastForcedAt: number };

/**
 * The refusal that holds longest, or null when the order may go now. `history` is the app's past
 * orders (any order), `backoffUntil` the retry time its last failure set (null: none pending).
 */
export function orderRefusal(
  history: readonly PastOrder[],
  backoffUntil: number | null,
  req: OrderRequest,
  policy: OrderPolicy,
  now: number,
): Refusal | null {
  const refusals: Refusal[] = [];
  if (backoffUntil !== null && backoffUntil > now) refusals.push({ reason: 'backoff', allowedAt: backoffUntil });
  if (!req.admin) {
    const issued = history
      .filter((o) => o.issued && o.at > now - policy.windowMs)
      .map((o) => o.at)
      .sort((a, b) => a - b);
    if (issued.length >= policy.maxIssued) {
      // the window frees a place when enough of the oldest have left it
      const oldestToLeave = issued[issued.length - policy.maxIssued];
      refusals.push({ reason: 'budget', allowedAt: oldestToLeave + policy.windowMs, issued: issued.length });
    }
    if (req.forced) {
      const lastForcedAt = Math.max(...history.filter((o) => o.forced).map((o) => o.at), Number.NEGATIVE_INFINITY);
      if (lastForcedAt + policy.forceSpacingMs > now)
        refusals.push({ reason: 'spacing', allowedAt: lastForcedAt + policy.forceSpacingMs, lastForcedAt });
    }
  }
  return refusals.reduce<Refusal | null>((a, r) => (a && a.allowedAt >= r.allowedAt ? a : r), null);
}

/** The one line a refused order prints. */
export function refusalMessage(app: string, r: Refusal, policy: OrderPolicy): string {
  const from = new Date(r.allowedAt).toISOString();
  switch (r.reason) {
    case 'backoff':
      return `the last certificate order for ${app} failed (letsencrypt:list shows why); the next attempt is allowed from ${from}`;
    case 'budget':
      return `${app} got ${r.issued} certificates in the last ${days(policy.windowMs)}, the most one app may order; the next order is allowed from ${from}`;
    case 'spacing':
      return `${app} had a forced order at ${new Date(r.lastForcedAt).toISOString()} and forced orders are at most one per ${hours(policy.forceSpacingMs)}; the next is allowed from ${from}`;
  }
}

function days(ms: number): string {
  const d = ms / 86_400_000;
  return d === 1 ? 'day' : `${d} days`;
}

function hours(ms: number): string {
  if (ms >= 3_600_000) return ms === 3_600_000 ? 'hour' : `${ms / 3_600_000} hours`;
  return `${Math.ceil(ms / 1000)} s`;
}
