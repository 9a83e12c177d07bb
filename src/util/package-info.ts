import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The installed package's root (where package.json is), from src/ under tsx or dist/src when built. */
export function packageRoot(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  while (!fs.existsSync(path.join(dir, 'package.json'))) {
    const up = path.dirname(dir);
    if (up === dir) throw new Error('package.json not found above the paas sources');
    dir = up;
  }
  return dir;
}

export function packageVersion(): string {
  return (JSON.parse(fs.readFileSync(path.join(packageRoot(), 'package.json'), 'utf8')) as { version: string }).version;
}
