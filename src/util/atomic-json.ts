import fs from 'node:fs';
import { mkdir, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';

export interface AtomicJsonOptions {
  /** JSON.stringify's indent; none by default */
  indent?: number;
  /** file mode of a newly written file (umask applies); the default is 0o666 */
  mode?: number;
}

let seq = 0;

/** A temp file next to `file` that no other write in this process or another one uses. */
function tempPath(file: string): string {
  return `${file}.${process.pid}.${++seq}.tmp`;
}

function jsonText(value: unknown, indent: number | undefined): string {
  return `${JSON.stringify(value, null, indent)}\n`;
}

/**
 * Writes `value` as JSON (one trailing newline) through a temp file and a rename: a reader sees
 * the old file or the new one, never half of one. Creates the parent folder.
 */
export function writeJsonAtomic(file: string, value: unknown, opts: AtomicJsonOptions = {}): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const tmp = tempPath(file);
  fs.writeFileSync(tmp, jsonText(value, opts.indent), opts.mode === undefined ? undefined : { mode: opts.mode });
  fs.renameSync(tmp, file);
}

/** writeJsonAtomic without blocking the event loop. Concurrent calls for one file: the last rename wins. */
export async function writeJsonAtomicAsync(file: string, value: unknown, opts: AtomicJsonOptions = {}): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true });
  const tmp = tempPath(file);
  await writeFile(tmp, jsonText(value, opts.indent), opts.mode === undefined ? undefined : { mode: opts.mode });
  await rename(tmp, file);
}
