import { AppLogsErrors } from './app-logs-errors.js';

/** How much of an app's log is kept: the oldest segments go once the total passes `maxBytes` or a segment is older than `maxAgeMs`. */
export interface LogRetention {
  maxBytes: number;
  maxAgeMs: number;
}

export const DEFAULT_RETENTION: LogRetention = { maxBytes: 100 * 1024 ** 2, maxAgeMs: 7 * 86_400_000 };

const SIZE_UNITS: Record<string, number> = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 };
const AGE_UNITS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 7 * 86_400_000 };
const MIN_BYTES = 4 * 1024;
const MAX_BYTES = 100 * 1024 ** 3;
const MIN_AGE_MS = 1000;
const MAX_AGE_MS = 3650 * 86_400_000;

/** "100m", "512k", "1g", "65536" -> bytes, from 4k to 100g. */
export function parseLogSize(text: string): number {
  const m = /^(\d{1,12})([kmg]?)b?$/i.exec(text.trim());
  const bytes = m ? Number(m[1]) * SIZE_UNITS[m[2]!.toLowerCase()]! : Number.NaN;
  if (!(bytes >= MIN_BYTES && bytes <= MAX_BYTES))
    throw AppLogsErrors.usage(`max-size must be a size from 4k to 100g (e.g. 100m, 512k, 1g), got '${text}'; nothing was changed`);
  return bytes;
}

/** "7d", "12h", "30m", "90s", "2w" -> milliseconds, from 1s to 3650d. */
export function parseLogAge(text: string): number {
  const m = /^(\d{1,7})([smhdw])$/.exec(text.trim());
  const ms = m ? Number(m[1]) * AGE_UNITS[m[2]!]! : Number.NaN;
  if (!(ms >= MIN_AGE_MS && ms <= MAX_AGE_MS))
    throw AppLogsErrors.usage(`max-age must be a duration from 1s to 3650d (e.g. 7d, 12h, 30m), got '${text}'; nothing was changed`);
  return ms;
}

/** "2h", "30m", "45s", "1d" for `logs --since`: how far back, in milliseconds. */
export function parseSince(text: string): number {
  const m = /^(\d{1,7})([smhdw])$/.exec(text.trim());
  if (!m) throw AppLogsErrors.usage(`--since must be a duration like 2h, 30m, 45s or 1d, got '${text}'`);
  return Number(m[1]) * AGE_UNITS[m[2]!]!;
}

/** "v12" or "12" for `logs --release`. */
export function parseReleaseFilter(text: string): number {
  const m = /^v?(\d{1,9})$/.exec(text.trim());
  if (!m) throw AppLogsErrors.usage(`--release must be a release like v12, got '${text}'`);
  return Number(m[1]);
}

export function formatSize(bytes: number): string {
  for (const [u, n] of [
    ['g', 1024 ** 3],
    ['m', 1024 ** 2],
    ['k', 1024],
  ] as const)
    if (bytes >= n && bytes % n === 0) return `${bytes / n}${u}`;
  return String(bytes);
}

export function formatAge(ms: number): string {
  for (const [u, n] of [
    ['d', AGE_UNITS.d!],
    ['h', AGE_UNITS.h!],
    ['m', AGE_UNITS.m!],
  ] as const)
    if (ms >= n && ms % n === 0) return `${ms / n}${u}`;
  return `${Math.round(ms / 1000)}s`;
}

/** Segment size under a cap: small enough that dropping the oldest keeps most of the cap, big enough to stay few files. */
export function segmentBytes(maxBytes: number): number {
  return Math.min(16 * 1024 ** 2, Math.max(1024, Math.floor(maxBytes / 8)));
}
