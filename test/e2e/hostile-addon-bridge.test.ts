// Issue 21, hole 6: an add-on must not be a bridge between apps. Driven as the attacker would: a
// developer key granted one app runs one-off containers of that app (`paas run`) and uses the
// DATABASE_URL the app was linked with, through the real `pg` client, against a real Postgres
// add-on that a second app is linked to as well. Its login must not be a superuser (no
// `COPY ... TO PROGRAM`, no roles), and it must not read the other app's rows. The add-on
// containers run with the app containers' hardening and a memory limit.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import BetterSqlite3 from 'better-sqlite3';
import { ensurePostgresImage, ensureRedisImage, POSTGRES_IMAGE, REDIS_IMAGE } from '../helpers/addon-images.js';
import { commitFiles, push, viaProxy } from '../helpers/app-repo.js';
import { ensureNodeImage } from '../helpers/base-images.js';
import { postgresApp } from '../helpers/db-apps.js';
import { dockerClient, requireDocker } from '../helpers/docker.js';
import { makeKey, PaasServer } from '../helpers/paas-server.js';

const ID = randomBytes(3).toString('hex');
const DB = `bridge${ID}`;
const CACHE = `bridgecache${ID}`;
const A = `bra${ID}`;
const B = `brb-${ID}`;
const SECRET = `b-secret-${ID}`;
let paas: PaasServer;
let dev: { priv: string; pub: string };

/**
 * Run in a one-off container of the app: reads SQL statements (one per line) on stdin and runs
 * each through the app's DATABASE_URL, printing `ok <rows as JSON>` or `error <message>` per line.
 */
const PROBE = `
const { Client } = require('pg');
let input = '';
process.stdin.on('data', (d) => (input += d));
process.stdin.on('end', async () => {
  const c = new Client({ connectionString: process.env.DATABASE_URL });
  await c.connect();
  for (const sql of input.split('\\n').filter(Boolean)) {
    try {
      const r = await c.query(sql);
      console.log('ok ' + JSON.stringify(r.rows));
    } catch (e) {
      console.log('error ' + e.message);
    }
  }
  await c.end();
});
`;

const ok = async (command: string, input?: string) => {
  const r = await paas.ssh(command, { input });
  assert.equal(r.exitCode, 0, `${command}: ${r.stderr}`);
  return r;
};
/** The developer key runs `statements` through app A's own DATABASE_URL; one result line each. */
async function asDevInA(statements: string[]): Promise<string[]> {
  const r = await paas.ssh(`run ${A} node /app/probe.js`, { key: dev.priv, input: `${statements.join('\n')}\n` });
  assert.equal(r.exitCode, 0, r.stderr);
  const lines = r.stdout.split('\n').filter((l) => /^(ok|error) /.test(l));
  assert.equal(lines.length, statements.length, r.stdout);
  return lines;
}
const get = async (app: string, p: string) => viaProxy(paas, `${app}.paas.test`, p, 30_000);

before(async () => {
  await requireDocker();
  await Promise.all([ensureNodeImage(), ensurePostgresImage(), ensureRedisImage()]);
  paas = await new PaasServer({ PAAS_IMAGE_POSTGRES: POSTGRES_IMAGE, PAAS_IMAGE_REDIS: REDIS_IMAGE }).start();
  for (const app of [A, B]) {
    const dir = path.join(paas.dataDir, 'work', app);
    await commitFiles(dir, { ...postgresApp(), 'probe.js': PROBE });
    const r = await push(paas, dir, app);
    assert.equal(r.exitCode, 0, r.output);
  }
  dev = await makeKey(paas.keyDir, 'dev');
  await ok(`ssh-keys:add dev --role developer --apps ${A}`, fs.readFileSync(dev.pub, 'utf8'));
  await ok(`postgres:create ${DB}`);
  await ok(`postgres:link ${DB} ${A}`);
  await ok(`postgres:link ${DB} ${B}`);
  // each app writes through its own URL, as apps do
  assert.equal((await get(A, '/write?note=a-row')).status, 200);
  assert.equal((await get(B, `/write?note=${SECRET}`)).status, 200);
});
after(async () => {
  await paas?.destroy();
});

test("a linked app's login is no superuser: COPY TO PROGRAM, CREATE ROLE and ALTER ROLE SUPERUSER are refused", async () => {
  const [copy, createRole, superuser, createDb, readFile, attrs] = await asDevInA([
    "COPY (SELECT 1) TO PROGRAM 'id'",
    'CREATE ROLE evil LOGIN',
    'ALTER ROLE CURRENT_USER SUPERUSER',
    'CREATE DATABASE evil',
    "SELECT pg_read_file('/etc/passwd')",
    "SELECT rolsuper, rolcreaterole, rolcreatedb, rolreplication, rolbypassrls, pg_has_role(current_user, 'pg_execute_server_program', 'USAGE') AS prog, pg_has_role(current_user, 'pg_read_server_files', 'USAGE') AS rf, pg_has_role(current_user, 'pg_write_server_files', 'USAGE') AS wf FROM pg_roles WHERE rolname = current_user",
  ]);
  assert.match(copy!, /^error (must be superuser|permission denied).*program/i, 'COPY TO PROGRAM');
  assert.match(createRole!, /^error permission denied to create role/);
  assert.match(superuser!, /^error (must be superuser|permission denied)/);
  assert.match(createDb!, /^error permission denied to create database/);
  assert.match(readFile!, /^error permission denied/);
  assert.equal(
    attrs,
    `ok ${JSON.stringify([{ rolsuper: false, rolcreaterole: false, rolcreatedb: false, rolreplication: false, rolbypassrls: false, prog: false, rf: false, wf: false }])}`,
  );
  // the URL names the app's own login, and the admin keeps the superuser through connect
  const url = (await ok(`config:get ${A} DATABASE_URL`)).stdout.trim();
  assert.match(url, new RegExp(`^postgres://app_${A}:[0-9a-f]{64}@paas-postgres-${DB}:5432/${DB}$`));
  const admin = await ok(`postgres:connect ${DB}`, 'SELECT rolsuper FROM pg_roles WHERE rolname = current_user;\n');
  assert.match(admin.stdout, /^\s*t\s*$/m);
});

test("two apps linked to one Postgres cannot read each other's rows, whatever table the attacker tries", async () => {
  assert.equal((await get(A, '/rows')).body, 'a-row');
  assert.equal((await get(B, '/rows')).body, SECRET);
  // every table the attacker's login can name, read whole
  const [tables] = await asDevInA([
    "SELECT schemaname, tablename FROM pg_tables WHERE schemaname NOT IN ('pg_catalog', 'information_schema')",
  ]);
  const names = JSON.parse(tables!.slice(3)) as { schemaname: string; tablename: string }[];
  assert.ok(names.length >= 2, tables);
  const reads = await asDevInA(names.map((t) => `SELECT * FROM "${t.schemaname}"."${t.tablename}"`));
  for (const line of reads) assert.ok(!line.includes(SECRET), `read the other app's row: ${line}`);
  assert.ok(
    reads.some((l) => /^error permission denied for schema/.test(l)),
    reads.join('\n'),
  );
  // nor write into the other app's schema, the public schema, or make a schema of its own
  const writes = await asDevInA([
    `INSERT INTO app_${B.replaceAll('-', '_')}.items (note) VALUES ('planted')`,
    'CREATE TABLE public.planted (x int)',
    'CREATE SCHEMA planted',
  ]);
  for (const w of writes) assert.match(w, /^error permission denied/);
  assert.equal((await get(B, '/rows')).body, SECRET);
});

test("a restore runs each table's rows as its owner: a function the app planted in a CHECK never runs as the superuser", async () => {
  const login = `app_${A}`;
  const marker = `/tmp/pwned-${ID}`;
  // the attacker plants a function that a COPY of its rows runs, then waits for the admin's restore
  const planted = await asDevInA([
    'CREATE TABLE seen (who text, su boolean)',
    `CREATE FUNCTION spy(x int) RETURNS boolean LANGUAGE plpgsql AS $$ BEGIN INSERT INTO ${login}.seen VALUES (current_user, current_setting('is_superuser')::boolean); BEGIN EXECUTE 'COPY (SELECT 1) TO PROGRAM ''touch ${marker}'''; EXCEPTION WHEN others THEN NULL; END; RETURN true; END $$`,
    `CREATE TABLE bait (x int CHECK (${login}.spy(x)))`,
    'INSERT INTO bait VALUES (1)',
    'DELETE FROM seen',
  ]);
  for (const line of planted) assert.match(line, /^ok /);
  const backup = /^Backup (\S+)/.exec((await ok(`postgres:backup ${DB}`)).stdout)![1]!;
  await ok(`postgres:restore ${DB} ${backup}`);
  const probe = await dockerClient()
    .getContainer(`paas-postgres-${DB}`)
    .exec({ Cmd: ['test', '-e', marker], AttachStdout: true, AttachStderr: true });
  const stream = await probe.start({});
  await new Promise((r) => stream.on('end', r).resume());
  assert.notEqual((await probe.inspect()).ExitCode, 0, `${marker} was made: the planted function ran as the superuser`);
  const [seen] = await asDevInA(['SELECT who, su FROM seen']);
  assert.equal(seen, `ok ${JSON.stringify([{ who: login, su: false }])}`);
  // the apps still own and read their data after the restore
  assert.equal((await get(A, '/rows')).body, 'a-row');
  assert.equal((await get(B, '/rows')).body, SECRET);
});

/** The hardening of app containers (container-hardening.ts) and a memory limit, on a running add-on container. */
async function assertHardened(container: string, memory: number): Promise<void> {
  const c = await dockerClient().getContainer(container).inspect();
  assert.equal(c.State.Running, true, container);
  for (const cap of ['NET_RAW', 'MKNOD', 'SYS_CHROOT', 'SETFCAP', 'AUDIT_WRITE'])
    assert.ok(
      (c.HostConfig.CapDrop ?? []).some((d: string) => d.replace(/^CAP_/, '') === cap),
      `${container} drops ${cap}: ${c.HostConfig.CapDrop}`,
    );
  assert.ok((c.HostConfig.PidsLimit ?? 0) > 0, `${container} pids limit`);
  assert.equal(c.HostConfig.Memory, memory, `${container} memory`);
  assert.ok(
    (c.HostConfig.SecurityOpt ?? []).some((o: string) => o.startsWith('no-new-privileges')),
    `${container} no-new-privileges`,
  );
}

test('the add-on containers run with the app hardening and a memory limit, and still start', async () => {
  await assertHardened(`paas-postgres-${DB}`, 1024 ** 3);
  await ok(`redis:create ${CACHE} --memory 256m`);
  await assertHardened(`paas-redis-${CACHE}`, 256 * 1024 ** 2);
  assert.match((await ok(`redis:connect ${CACHE}`, 'PING\n')).stdout, /PONG/);
  const info = await ok(`redis:info ${CACHE}`);
  assert.match(info.stdout, /memory limit: +268\.4 MB/);
  // a bad limit: one line, exit 2, nothing made
  const bad = await paas.ssh(`redis:create other${ID} --memory lots`);
  assert.equal(bad.exitCode, 2);
  assert.match(bad.stderr, /^error: memory must be a number with a unit/);
  assert.equal(bad.stderr.split('\n').length, 2);
  assert.doesNotMatch((await ok('redis:list')).stdout, new RegExp(`other${ID}`));
  // restart --memory sets a new limit (the container is recreated, its data kept)
  await ok(`redis:connect ${CACHE}`, 'SET kept yes\n');
  const badRestart = await paas.ssh(`redis:restart ${CACHE} --memory 1x`);
  assert.equal(badRestart.exitCode, 2);
  await assertHardened(`paas-redis-${CACHE}`, 256 * 1024 ** 2);
  await ok(`redis:restart ${CACHE} --memory 512m`);
  await assertHardened(`paas-redis-${CACHE}`, 512 * 1024 ** 2);
  assert.match((await ok(`redis:connect ${CACHE}`, 'GET kept\n')).stdout, /yes/);
});

test('a container made before the hardening is flagged by info and recreated by restart, keeping its data and links', async () => {
  const docker = dockerClient();
  const name = `paas-postgres-${DB}`;
  const old = await docker.getContainer(name).inspect();
  const networks = Object.keys(old.NetworkSettings.Networks);
  // the container as paas made it before: no capability drops, no pids or memory limit
  await docker.getContainer(name).remove({ force: true });
  const [first, ...rest] = networks;
  const made = await docker.createContainer({
    name,
    Image: old.Config.Image,
    Env: old.Config.Env,
    Labels: old.Config.Labels,
    HostConfig: {
      Binds: old.HostConfig.Binds,
      RestartPolicy: { Name: 'unless-stopped' },
      NetworkMode: first,
      SecurityOpt: ['no-new-privileges'],
    },
    NetworkingConfig: { EndpointsConfig: { [first!]: { Aliases: [name] } } },
  });
  for (const n of rest) await docker.getNetwork(n).connect({ Container: name, EndpointConfig: { Aliases: [name] } });
  await made.start();
  const before = await ok(`postgres:info ${DB}`);
  assert.match(before.stdout, new RegExp(`WARNING: ${name} was made before add-ons were hardened; postgres:restart ${DB} recreates it`));
  const r = await ok(`postgres:restart ${DB}`);
  assert.match(r.stdout, /Recreating .* with the add-on hardening and memory limit/);
  await assertHardened(name, 1024 ** 3);
  const now = await docker.getContainer(name).inspect();
  assert.deepEqual(Object.keys(now.NetworkSettings.Networks).sort(), [...networks].sort());
  assert.doesNotMatch((await ok(`postgres:info ${DB}`)).stdout, /made before add-ons were hardened/);
  assert.equal((await get(A, '/rows')).body, 'a-row');
  assert.equal((await get(B, '/rows')).body, SECRET);
});

test('unlink disables the login and keeps its data; a new link of the same app gets it back', async () => {
  const login = `app_${B.replaceAll('-', '_')}`;
  const r = await ok(`postgres:unlink ${DB} ${B}`);
  assert.match(r.stdout, new RegExp(`Login ${login} disabled; its data stays`));
  const state = await ok(`postgres:connect ${DB}`, `SELECT rolcanlogin FROM pg_roles WHERE rolname = '${login}';\n`);
  assert.match(state.stdout, /^\s*f\s*$/m);
  await ok(`postgres:link ${DB} ${B}`);
  assert.equal((await get(B, '/rows')).body, SECRET);
});

test('a link made before per-app logins is flagged by info, and the steps it names give the app its own login and its data', async () => {
  const login = `app_${B.replaceAll('-', '_')}`;
  // B as a link made before this change left it: the superuser's URL, its table in public
  const db = new BetterSqlite3(path.join(paas.dataDir, 'paas.db'));
  try {
    db.prepare('UPDATE addon_links SET login = NULL, password = NULL WHERE app = ?').run(B);
  } finally {
    db.close();
  }
  await ok(
    `postgres:connect ${DB}`,
    `ALTER TABLE ${login}.items SET SCHEMA public;\nALTER TABLE public.items OWNER TO postgres;\nDROP OWNED BY ${login};\nDROP ROLE ${login};\n`,
  );
  const env = (await dockerClient().getContainer(`paas-postgres-${DB}`).inspect()).Config.Env ?? [];
  const superPw = env.find((e) => e.startsWith('POSTGRES_PASSWORD='))!.slice('POSTGRES_PASSWORD='.length);
  await ok(`config:set ${B} DATABASE_URL=postgres://postgres:${superPw}@paas-postgres-${DB}:5432/${DB}`);
  assert.equal((await get(B, '/rows')).body, SECRET);

  const info = await ok(`postgres:info ${DB}`);
  assert.match(info.stdout, new RegExp(`${B} \\(DATABASE_URL, login postgres, SUPERUSER\\)`));
  const warning = new RegExp(`WARNING: ${B} was linked before per-app logins and holds the superuser's URL.*`).exec(info.stdout);
  assert.ok(warning, info.stdout);
  assert.doesNotMatch(info.stdout, new RegExp(`WARNING: ${A} `));
  const json = JSON.parse((await ok(`postgres:info ${DB} --json`)).stdout) as { linkDetails: Record<string, unknown>[] };
  assert.ok(
    json.linkDetails.every((l) => !('password' in l)),
    'no password in info',
  );

  // the steps the warning names, as an admin would follow them
  assert.match(warning[0], new RegExp(`postgres:unlink ${DB} ${B}, then in postgres:connect ${DB}: CREATE ROLE ${login} NOLOGIN;`));
  await ok(`postgres:unlink ${DB} ${B}`);
  await ok(
    `postgres:connect ${DB}`,
    `CREATE ROLE ${login} NOLOGIN;\nCREATE SCHEMA ${login} AUTHORIZATION ${login};\nALTER TABLE public.items SET SCHEMA ${login};\nALTER TABLE ${login}.items OWNER TO ${login};\n`,
  );
  await ok(`postgres:link ${DB} ${B}`);
  assert.equal((await get(B, '/rows')).body, SECRET);
  assert.equal((await get(B, '/write?note=after')).status, 200);
  assert.match((await ok(`config:get ${B} DATABASE_URL`)).stdout, new RegExp(`^postgres://${login}:`));
  assert.doesNotMatch((await ok(`postgres:info ${DB}`)).stdout, /WARNING/);
});

test("apps:destroy drops the destroyed app's login and its data", async () => {
  const login = `app_${B.replaceAll('-', '_')}`;
  const count = async () =>
    (
      await ok(
        `postgres:connect ${DB}`,
        `SELECT count(*) FROM pg_roles WHERE rolname = '${login}';\nSELECT count(*) FROM pg_namespace WHERE nspname = '${login}';\n`,
      )
    ).stdout
      .match(/^\s*\d+\s*$/gm)
      ?.map((n) => n.trim());
  assert.deepEqual(await count(), ['1', '1'], 'the linked app has its login and schema');
  await ok(`apps:destroy ${B} --force`);
  assert.deepEqual(await count(), ['0', '0'], 'both gone with the app');
  assert.equal((await get(A, '/rows')).body, 'a-row', 'the other app keeps its data');
});
