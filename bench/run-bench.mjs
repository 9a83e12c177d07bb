#!/usr/bin/env node
// `npm run bench <name>` runs bench/<name>-bench.mjs or bench/<name>-bench.ts (through tsx),
// e.g. `npm run bench proxy`, `npm run bench ssh`, `npm run bench deploy`, `npm run bench scale`,
// `npm run bench rollback`, `npm run bench dashboard` (chromium page loads, asset bytes, control-plane CPU/RSS). Each writes its table to bench/results/<name>.md; `npm run bench readme`
// splices those into docs/benchmarks.md between <!-- bench:begin --> and <!-- bench:end -->.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const name = process.argv[2];
const candidates = name ? [`${name}-bench.mjs`, `${name}-bench.ts`].map((f) => path.join(here, f)) : [];
const file = candidates.find((f) => existsSync(f));
if (!file) {
  console.error(`usage: npm run bench <name>; no bench/${name ?? '<name>'}-bench.mjs or .ts`);
  process.exit(2);
}
// Benchmarks measure the installed form: the compiled dist/, built first when missing.
if (name !== 'readme' && !existsSync(path.join(here, '..', 'dist', 'src', 'main.js')))
  spawnSync('npm', ['run', 'build'], { stdio: 'inherit' });
process.env.PAAS_USE_DIST ??= '1';
const args = file.endsWith('.ts') ? ['--import', 'tsx', file] : [file];
const r = spawnSync(process.execPath, [...args, ...process.argv.slice(3)], { stdio: 'inherit' });
process.exit(r.status ?? 1);
