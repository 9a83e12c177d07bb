import { DeployErrors } from './deploy-errors.js';

const LINE = /^([A-Za-z0-9_-]+):\s*(.+)$/;

/** Parses a Procfile: `type: command` lines; blank lines and `#` comments are skipped. */
export function parseProcfile(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = raw.trim();
    if (!line || line.startsWith('#')) return;
    const m = LINE.exec(line);
    if (!m) throw DeployErrors.procfile(i + 1, line);
    out[m[1]] = m[2].trim();
  });
  return out;
}
