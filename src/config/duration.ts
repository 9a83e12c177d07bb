const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/**
 * "500ms", "60s", "2m", "1h" (a bare number is seconds) -> milliseconds; null when the text is not
 * one of those or is over `maxMs`.
 */
export function parseDurationMs(text: string, maxMs = 86_400_000): number | null {
  const m = /^(\d{1,9})(ms|s|m|h)?$/.exec(text.trim());
  if (!m) return null;
  const ms = Number(m[1]) * UNITS[m[2] ?? 's'];
  return ms <= maxMs ? ms : null;
}
