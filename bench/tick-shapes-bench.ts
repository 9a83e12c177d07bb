/**
 * `npm run bench tick-shapes [-- --processes 3]`: what `process.nextTick` costs before and after
 * full GCs taken while no tick object is alive (a quiet proxy between health checks), in fresh
 * Node processes that hold nextTick's shapes (src/proxy/process/tick-shapes.ts, from dist/, as
 * every proxy process does) and in processes that do not (any Node program). The proxy's own
 * figure for the same effect is the instance spread in docs/benchmarks.md (session 13).
 */
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { fmtStats, median, ratio, Results } from './bench-stats.js';

const root = path.join(path.dirname(fileURLToPath(import.meta.url)), '..');
const arg = (n: string, d: number) => {
  const i = process.argv.indexOf(`--${n}`);
  return i === -1 ? d : Number(process.argv[i + 1]);
};
const PROCESSES = arg('processes', 3);
const GCS = 5;
const module = pathToFileURL(path.join(root, 'dist', 'src', 'proxy', 'process', 'tick-shapes.js')).href;

/** ns per nextTick (the median of 300 batches of 2,000) before the idle GCs and after them. */
const child = `
import { holdTickShapes } from ${JSON.stringify(module)};
if (process.argv[1] === 'hold') holdTickShapes();
const noop = () => {};
const batch = () => new Promise((r) => { const t = process.hrtime.bigint(); for (let i = 0; i < 2000; i++) process.nextTick(noop, i); process.nextTick(() => r(Number(process.hrtime.bigint() - t) / 2000)); });
const measure = async () => { const ns = []; for (let k = 0; k < 300; k++) ns.push(await batch()); ns.sort((a, b) => a - b); return ns[150]; };
const before = await measure();
for (let i = 0; i < ${GCS}; i++) { await new Promise((r) => setImmediate(r)); globalThis.gc(); }
const after = await measure();
console.log(JSON.stringify({ before, after }));
`;

function run(mode: 'hold' | 'none'): { before: number; after: number } {
  const r = spawnSync(process.execPath, ['--expose-gc', '--input-type=module', '-e', child, mode], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`tick-shapes child failed: ${r.stderr}`);
  return JSON.parse(r.stdout.trim());
}

const held: Array<{ before: number; after: number }> = [];
const plain: Array<{ before: number; after: number }> = [];
for (let i = 0; i < PROCESSES; i++) {
  held.push(run('hold'));
  plain.push(run('none'));
}
const res = new Results('tick-shapes', "process.nextTick after full GCs of a quiet process, with the proxy's held tick shapes and without");
const conditions = `${PROCESSES} fresh processes each, alternated; ns per nextTick(fn, arg): the median of 300 batches of 2,000, before and after ${GCS} full GCs (global.gc() from setImmediate, no tick pending)`;
/** One row: nextTick after the idle GCs against before them, in the processes of one mode. */
function row(figure: string, runs: Array<{ before: number; after: number }>): void {
  const after = runs.map((r) => r.after);
  const before = runs.map((r) => r.before);
  res.add({
    figure,
    paas: fmtStats(after, 'ns', 0),
    reference: `before the GCs ${fmtStats(before, 'ns', 0)}`,
    ratio: ratio(median(after), median(before)),
    conditions,
  });
}
row('nextTick after the idle GCs, holding the shapes (as every paas proxy process)', held);
row('nextTick after the idle GCs, without (any Node process)', plain);
res.write();
