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

/**
 * The build a process runs: the package version and when its entry point was built
 * ("0.1.0 (built 2026-11-30T08:00:00Z)"). A rebuilt install gets a new one, so the control plane
 * can tell a proxy still running the previous build (and hand its sockets to a new one).
 */
export function buildVersion(): string {
  const root = packageRoot();
  for (const entry of [path.join(root, 'dist', 'src', 'main.js'), path.join(root, 'src', 'main.ts')]) {
    try {
      const built = fs
        .statSync(entry)
        .mtime.toISOString()
        .replace(/\.\d+Z$/, 'Z');
      return `${packageVersion()} (built ${built})`;
    } catch {}
  }
  return packageVersion();
}
