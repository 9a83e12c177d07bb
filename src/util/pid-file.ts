import fs from 'node:fs';
import path from 'node:path';

export function writePidFile(file: string, pid = process.pid): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, `${pid}\n`);
}

/** The pid in `file` if that process is alive, else null. */
export function livePid(file: string): number | null {
  let pid: number;
  try {
    pid = Number(fs.readFileSync(file, 'utf8').trim());
  } catch {
    return null;
  }
  if (!Number.isInteger(pid) || pid <= 0) return null;
  try {
    process.kill(pid, 0);
    return pid;
  } catch {
    return null;
  }
}

/** Removes `file` only if it still names this process (a successor may have written its own). */
export function removeOwnPidFile(file: string, pid = process.pid): void {
  try {
    if (Number(fs.readFileSync(file, 'utf8').trim()) === pid) fs.rmSync(file);
  } catch {
    // already gone
  }
}
