import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Plugin } from '../plugin-host/plugin.js';
import { packageRoot } from '../util/package-info.js';

/**
 * Loads every plugins/<name>/<name>-plugin.(js|ts) next to the running sources (dist/plugins
 * when built, plugins/ under tsx). Plugins are found, never imported by name.
 */
export async function loadPlugins(): Promise<Plugin[]> {
  const here = import.meta.url.endsWith('.ts') ? '.ts' : '.js';
  const root = here === '.ts' ? packageRoot() : path.join(packageRoot(), 'dist');
  const dir = path.join(root, 'plugins');
  const plugins: Plugin[] = [];
  for (const name of fs.readdirSync(dir).sort()) {
    const file = path.join(dir, name, `${name}-plugin${here}`);
    if (!fs.existsSync(file)) continue;
    const mod = (await import(pathToFileURL(file).href)) as { default: Plugin };
    plugins.push(mod.default);
  }
  return plugins;
}
