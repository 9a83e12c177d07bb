// Apps that use a linked database, for the add-on tests. The Postgres app talks through the real
// `pg` client, vendored from this repo's node_modules into the app (builds here are offline);
// the Redis app speaks RESP over a socket (INCR is one line of protocol).
import fs from 'node:fs';
import path from 'node:path';
import { NODE_IMAGE } from './base-images.js';

const ROOT = path.resolve(import.meta.dirname, '..', '..');

/** `node_modules/<name>` and everything it depends on, as files for commitFiles. */
function vendor(name: string, files: Record<string, string> = {}, seen = new Set<string>()): Record<string, string> {
  if (seen.has(name)) return files;
  const dir = path.join(ROOT, 'node_modules', name);
  if (!fs.existsSync(dir)) return files;
  seen.add(name);
  const walk = (d: string) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (/\.(js|cjs|mjs|json)$/.test(e.name)) files[path.relative(ROOT, p)] = fs.readFileSync(p, 'utf8');
    }
  };
  walk(dir);
  const pkg = JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8')) as Record<string, Record<string, string>>;
  for (const dep of Object.keys({ ...pkg.dependencies, ...pkg.optionalDependencies })) vendor(dep, files, seen);
  return files;
}

const DOCKERFILE = `FROM ${NODE_IMAGE}\nWORKDIR /app\nCOPY . /app\nCMD ["node", "server.js"]\n`;
const APP_JSON = JSON.stringify({ healthchecks: { web: [{ path: '/up', attempts: 30 }] } });

/**
 * A Node app on DATABASE_URL (or the variable named by DB_VAR): POST /write inserts a row,
 * GET /count and GET /rows read them back, GET /up answers without the database, GET /db says
 * whether the variable is set.
 */
export function postgresApp(): Record<string, string> {
  return {
    Dockerfile: DOCKERFILE,
    'app.json': APP_JSON,
    ...vendor('pg'),
    'server.js': `
const http = require('node:http');
const { Pool } = require('pg');
const url = process.env[process.env.DB_VAR || 'DATABASE_URL'];
const pool = url ? new Pool({ connectionString: url, max: 4 }) : null;
const q = async (sql, args) => (await pool.query(sql, args)).rows;
http.createServer(async (req, res) => {
  try {
    if (req.url === '/up') return res.end('up');
    if (req.url === '/db') return res.end(url ? 'linked' : 'unlinked');
    if (!pool) { res.statusCode = 503; return res.end('no database'); }
    await q('CREATE TABLE IF NOT EXISTS items (id serial PRIMARY KEY, note text NOT NULL)');
    if (req.url.startsWith('/write')) {
      const note = new URL(req.url, 'http://x').searchParams.get('note') || 'x';
      return res.end(String((await q('INSERT INTO items (note) VALUES ($1) RETURNING id', [note]))[0].id));
    }
    if (req.url === '/count') return res.end(String((await q('SELECT count(*)::int AS n FROM items'))[0].n));
    if (req.url === '/rows') return res.end((await q('SELECT note FROM items ORDER BY id')).map((r) => r.note).join(','));
    res.statusCode = 404;
    res.end('not found');
  } catch (e) {
    res.statusCode = 500;
    res.end('db error: ' + e.message);
  }
}).listen(Number(process.env.PORT || 5000));
`,
  };
}

/** A Node app on REDIS_URL: GET /hit INCRs a counter and answers its value; GET /up answers without Redis. */
export function redisApp(): Record<string, string> {
  return {
    Dockerfile: DOCKERFILE,
    'app.json': APP_JSON,
    'server.js': `
const http = require('node:http');
const net = require('node:net');
function redis(cmd) {
  const u = new URL(process.env.REDIS_URL);
  return new Promise((resolve, reject) => {
    const s = net.connect(Number(u.port || 6379), u.hostname);
    const enc = (a) => '*' + a.length + '\\r\\n' + a.map((x) => '$' + Buffer.byteLength(x) + '\\r\\n' + x + '\\r\\n').join('');
    let buf = '';
    s.on('data', (d) => {
      buf += d;
      const lines = buf.split('\\r\\n');
      if (lines.length < 3) return;
      s.end();
      if (lines[0][0] === '-') return reject(new Error(lines[0]));
      if (lines[1][0] === '-') return reject(new Error(lines[1]));
      resolve(lines[1].slice(1));
    });
    s.on('error', reject);
    s.write(enc(['AUTH', decodeURIComponent(u.password)]) + enc(cmd));
  });
}
http.createServer(async (req, res) => {
  try {
    if (req.url === '/up') return res.end('up');
    if (req.url === '/hit') return res.end(await redis(['INCR', 'hits']));
    res.statusCode = 404;
    res.end('not found');
  } catch (e) {
    res.statusCode = 500;
    res.end('redis error: ' + e.message);
  }
}).listen(Number(process.env.PORT || 5000));
`,
  };
}
