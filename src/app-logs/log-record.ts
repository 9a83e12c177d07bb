/**
 * One line of an app's kept log, as stored: one compact JSON object per line in a segment file.
 * `t` is the time Docker stamped the line with (RFC 3339, nanoseconds), `c` the container id's
 * first 12 hex digits (where the collector resumes after a restart), `r` the release, `p` and `i`
 * the process type and replica, `s` the stream (o = stdout, e = stderr), `m` the text.
 */
export interface LogRecord {
  t: string;
  c: string;
  r: number;
  p: string;
  i: number;
  s: 'o' | 'e';
  m: string;
}

export function encodeRecord(r: LogRecord): string {
  return `${JSON.stringify({ t: r.t, c: r.c, r: r.r, p: r.p, i: r.i, s: r.s, m: r.m })}\n`;
}

/** A stored line back as a record; null for a torn or foreign line (a crash mid-write), which readers skip. */
export function decodeRecord(line: string): LogRecord | null {
  if (line.length < 2 || line[0] !== '{' || line[line.length - 1] !== '}') return null;
  try {
    const o = JSON.parse(line) as Partial<LogRecord>;
    if (typeof o.t !== 'string' || typeof o.m !== 'string' || typeof o.p !== 'string') return null;
    if (typeof o.r !== 'number' || typeof o.i !== 'number' || typeof o.c !== 'string') return null;
    return { t: o.t, c: o.c, r: o.r, p: o.p, i: o.i, s: o.s === 'e' ? 'e' : 'o', m: o.m };
  } catch {
    return null;
  }
}

/** The line `paas logs` prints, the shape it always had: `<time> web.1: <text>`. */
export function formatRecord(r: LogRecord): string {
  return `${r.t} ${r.p}.${r.i}: ${r.m}`;
}

/**
 * A key that orders Docker's RFC 3339 UTC times as text: Docker trims trailing zeros of the
 * fraction, so it is padded to 9 digits.
 */
export function timeKey(t: string): string {
  return t.replace(/(?:\.(\d+))?Z$/, (_m, frac: string | undefined) => `.${(frac ?? '').padEnd(9, '0')}Z`);
}

/** `2026-01-02T03:04:05.123456789Z` -> Docker's `since` form, `1767323045.123456789`. */
export function dockerSince(t: string): string {
  const key = timeKey(t);
  const secs = Math.floor(Date.parse(`${key.slice(0, 19)}Z`) / 1000);
  return `${secs}.${key.slice(20, 29)}`;
}
