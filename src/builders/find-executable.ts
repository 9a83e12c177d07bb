import { constants } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';

/** The absolute path of `name` on `PATH` (like `which`), or null. */
export async function findExecutable(name: string, envPath: string | undefined = process.env.PATH): Promise<string | null> {
  if (name.includes('/')) return (await isExecutable(name)) ? path.resolve(name) : null;
  for (const dir of (envPath ?? '').split(path.delimiter)) {
    if (!dir) continue;
    const candidate = path.join(dir, name);
    if (await isExecutable(candidate)) return candidate;
  }
  return null;
}

async function isExecutable(p: string): Promise<boolean> {
  try {
    const st = await fs.stat(p);
    if (!st.isFile()) return false;
    await fs.access(p, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}
