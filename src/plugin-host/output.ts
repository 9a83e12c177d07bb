import type { Writable } from 'node:stream';

/** A plain text table with a header row, columns padded to their widest cell. */
export function table(headers: string[], rows: (string | number | null | undefined)[][]): string {
  const cells = [headers, ...rows.map((r) => r.map((c) => (c === null || c === undefined ? '-' : String(c))))];
  const widths = headers.map((_, i) => Math.max(...cells.map((r) => r[i].length)));
  return `${cells.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]))).join('  ')).join('\n')}\n`;
}

/** The line settings commands end with: their change takes effect at the app's next rollout. */
export function appliesAtNextRollout(app: string): string {
  return `Applied at the next rollout (ps:restart ${app}, a deploy, a config change or a scale)\n`;
}

export function writeJson(out: Writable, value: unknown): void {
  out.write(`${JSON.stringify(value, null, 2)}\n`);
}

/** `key: value` lines with aligned values. */
export function keyValues(pairs: [string, string | number | null | undefined][]): string {
  const w = Math.max(...pairs.map(([k]) => k.length)) + 1;
  return `${pairs.map(([k, v]) => `${`${k}:`.padEnd(w)} ${v ?? '-'}`).join('\n')}\n`;
}
