// Postgres as an add-on, against real databases: a Node app linked to it writes rows through
// DATABASE_URL; link and unlink roll out under load without a failed request; backups are
// verified and restore the rows; export piped into import of a second instance gives the same
// rows; bad input changes nothing.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { execa } from 'execa';
import { ensurePostgresImage, POSTGRES_IMAGE } from '../helpers/addon-images.js';
import { commitFiles, push, viaProxy } from '../helpers/app-repo.js';
import { ensureNodeImage } from '../helpers/base-images.js';
import { postgresApp } from '../helpers/db-apps.js';
import { dockerClient, requireDocker } from '../helpers/docker.js';
import { startLoad } from '../helpers/load.js';
import { PaasServer, sshOptions } from '../helpers/paas-server.js';

const ID = randomBytes(3).toString('hex');
const DB = `pg${ID}`;
const DB2 = `pgcopy${ID}`;
const APP = `pgapp${ID}`;
let paas: PaasServer;

const host = `${APP}.paas.test`;
/** the app's own login and schema, where its tables are */
const SCHEMA = `app_${APP}`;
const get = async (p: string) => viaProxy(paas, host, p, 30_000);
const ok = async (command: string, input?: string) => {
  const r = await paas.ssh(command, { input });
  assert.equal(r.exitCode, 0, `${command}: ${r.stderr}`);
  return r;
};
/** Runs `change` while 6 clients load the app through the proxy; not one request may fail. */
async function underLoad<T>(change: () => Promise<T>): Promise<T> {
  const load = startLoad({ port: paas.ports.http, host, path: '/up', clients: 6 });
  try {
    await load.more(20);
    const r = await change();
    await load.more(20);
    return r;
  } finally {
    const report = await load.stop();
    assert.deepEqual(report.errors, {}, JSON.stringify(report));
    assert.equal(report.non2xx, 0, JSON.stringify(report.statuses));
  }
}
const sql = async (db: string, statement: string) =>
  (await ok(`postgres:connect ${db}`, `\\pset footer off\n\\t on\n${statement}\n`)).stdout.trim();

before(async () => {
  await requireDocker();
  await Promise.all([ensureNodeImage(), ensurePostgresImage()]);
  paas = await new PaasServer({ PAAS_IMAGE_POSTGRES: POSTGRES_IMAGE }).start();
  const dir = path.join(paas.dataDir, 'work', APP);
  await commitFiles(dir, postgresApp());
  const r = await push(paas, dir, APP);
  assert.equal(r.exitCode, 0, r.output);
});
after(async () => {
  await paas?.destroy();
});

test('create pins the image, runs its own container with a named volume, a strong password and no published port', async () => {
  const r = await ok(`postgres:create ${DB}`);
  assert.match(r.stdout, new RegExp(`Created postgres service ${DB}: ${POSTGRES_IMAGE} \\(postgres \\(PostgreSQL\\) 15\\.`));
  const info = JSON.parse((await ok(`postgres:info ${DB} --json`)).stdout);
  assert.equal(info.image, POSTGRES_IMAGE);
  assert.equal(info.status, 'running');
  assert.equal(info.volume, `paas-postgres-${DB}-data`);
  assert.deepEqual(info.links, []);
  assert.ok(info.size > 0, 'volume size');
  const c = await dockerClient().getContainer(`paas-postgres-${DB}`).inspect();
  assert.deepEqual(c.HostConfig.PortBindings ?? {}, {});
  assert.deepEqual(Object.keys(c.NetworkSettings.Networks), ['none'], 'unlinked: on no network, not the shared default bridge');
  assert.equal(c.HostConfig.RestartPolicy?.Name, 'unless-stopped');
  assert.ok(c.Mounts.some((m) => m.Type === 'volume' && m.Name === `paas-postgres-${DB}-data`));
  const password = (c.Config.Env ?? []).find((e) => e.startsWith('POSTGRES_PASSWORD='))!.split('=')[1]!;
  assert.match(password, /^[0-9a-f]{64}$/);
  const list = await paas.ssh('postgres:list');
  assert.match(list.stdout, new RegExp(`${DB}\\s+${POSTGRES_IMAGE.replace(/[/.]/g, '\\$&')}\\s+running`));
  // a second create of the same name, a bad name: refused, nothing changed
  const again = await paas.ssh(`postgres:create ${DB}`);
  assert.equal(again.exitCode, 1);
  assert.match(again.stderr, /^error: postgres service .* already exists\n$/);
  const bad = await paas.ssh('postgres:create Bad_Name');
  assert.equal(bad.exitCode, 2);
  assert.match(bad.stderr, /invalid postgres service name 'Bad_Name'/);
});

test('link sets DATABASE_URL as a new release rolled out under load with zero failed requests; the app writes rows', async () => {
  assert.equal((await get('/db')).body, 'unlinked');
  const r = await underLoad(() => ok(`postgres:link ${DB} ${APP}`));
  assert.match(r.stdout, new RegExp(`Linked postgres service ${DB} to ${APP} as DATABASE_URL\\n`));
  assert.equal((await get('/db')).body, 'linked');
  for (const note of ['a', 'b', 'c']) assert.equal((await get(`/write?note=${note}`)).status, 200);
  assert.equal((await get('/rows')).body, 'a,b,c');
  const url = (await ok(`config:get ${APP} DATABASE_URL`)).stdout.trim();
  assert.match(url, new RegExp(`^postgres://${SCHEMA}:[0-9a-f]{64}@paas-postgres-${DB}:5432/${DB}$`));
  assert.match(r.stdout, new RegExp(`as DATABASE_URL \\(login ${SCHEMA}\\)`));
  const info = JSON.parse((await ok(`postgres:info ${DB} --json`)).stdout);
  assert.deepEqual(info.links, [APP]);
  assert.equal(info.linkDetails[0].var, 'DATABASE_URL');
  const c = await dockerClient().getContainer(`paas-postgres-${DB}`).inspect();
  assert.deepEqual(Object.keys(c.NetworkSettings.Networks), [`paas-${APP}`], 'linked: only the app network');
});

test('bad links: a missing app or service, the same variable twice (naming the alias to use), a bad alias', async () => {
  const noApp = await paas.ssh(`postgres:link ${DB} nosuchapp${ID}`);
  assert.equal(noApp.exitCode, 1);
  assert.equal(noApp.stderr, `error: app 'nosuchapp${ID}' does not exist\n`);
  const noDb = await paas.ssh(`postgres:link nosuchdb${ID} ${APP}`);
  assert.equal(noDb.exitCode, 1);
  assert.equal(noDb.stderr, `error: postgres service 'nosuchdb${ID}' does not exist (see postgres:list)\n`);
  await ok(`postgres:create ${DB2}`);
  const releasesBefore = (await ok(`releases ${APP}`)).stdout;
  const taken = await paas.ssh(`postgres:link ${DB2} ${APP}`);
  assert.equal(taken.exitCode, 1);
  assert.equal(
    taken.stderr,
    `error: DATABASE_URL is already set on '${APP}'; link with --alias ${DB2.toUpperCase()}_URL (or config:unset ${APP} DATABASE_URL first)\n`,
  );
  const badAlias = await paas.ssh(`postgres:link ${DB2} ${APP} --alias 9X`);
  assert.equal(badAlias.exitCode, 2);
  assert.match(badAlias.stderr, /invalid alias '9X'/);
  const twice = await paas.ssh(`postgres:link ${DB} ${APP} --alias OTHER_URL`);
  assert.equal(twice.exitCode, 1);
  assert.match(twice.stderr, /already linked to/);
  assert.equal((await ok(`releases ${APP}`)).stdout, releasesBefore, 'no release was made');
  const c = await dockerClient().getContainer(`paas-postgres-${DB2}`).inspect();
  assert.ok(!Object.keys(c.NetworkSettings.Networks).includes(`paas-${APP}`), 'the refused link did not join the network');
  // the alias is set exactly as given (no forced suffix)
  const aliased = await ok(`postgres:link ${DB2} ${APP} --alias SECOND_DB`);
  assert.match(aliased.stdout, /as SECOND_DB\n/);
  assert.match((await ok(`config:get ${APP} SECOND_DB`)).stdout, new RegExp(`@paas-postgres-${DB2}:5432/${DB2}`));
});

test('destroy is refused while linked, and asks for --force or the name', async () => {
  const linked = await paas.ssh(`postgres:destroy ${DB2} --force`);
  assert.equal(linked.exitCode, 1);
  assert.equal(linked.stderr, `error: postgres service '${DB2}' is linked to ${APP}; unlink first (postgres:unlink ${DB2} ${APP})\n`);
  await ok(`postgres:unlink ${DB2} ${APP}`);
  const unconfirmed = await paas.ssh(`postgres:destroy ${DB2}`);
  assert.equal(unconfirmed.exitCode, 2);
  assert.match(unconfirmed.stderr, /confirm with --force or 'postgres:destroy/);
  const wrong = await paas.ssh(`postgres:destroy ${DB2} other`);
  assert.equal(wrong.exitCode, 2);
  assert.equal((JSON.parse((await ok(`postgres:info ${DB2} --json`)).stdout) as { status: string }).status, 'running');
});

test('backup is verified and listed; after the data is destroyed, restore brings the rows back', async () => {
  const b = await ok(`postgres:backup ${DB}`);
  assert.match(b.stdout, /^Backup (\S+) of postgres service .*, verified \(\d+ objects\)\n$/);
  const name = /^Backup (\S+)/.exec(b.stdout)![1]!;
  const list = JSON.parse((await ok(`postgres:backups ${DB} --json`)).stdout) as { name: string; file: string; size: number }[];
  assert.deepEqual(
    list.map((x) => x.name),
    [name],
  );
  assert.ok(fs.existsSync(path.join(paas.dataDir, 'addons', 'postgres', DB, 'backups', list[0]!.file)));
  const text = await ok(`postgres:backups ${DB}`);
  assert.match(text.stdout, new RegExp(`^NAME .*\\n${name} `));
  const info = await ok(`postgres:info ${DB}`);
  assert.match(info.stdout, new RegExp(`last backup: +\\S+ ok \\(${name}\\)`));

  await sql(DB, `DROP TABLE ${SCHEMA}.items;`);
  assert.equal((await get('/count')).body, '0');
  const r = await ok(`postgres:restore ${DB} ${name}`);
  assert.equal(r.stdout, `Restored ${name} into postgres service ${DB}\n`);
  assert.equal((await get('/rows')).body, 'a,b,c');
  // the restore kept the owner: the app's login owns its table again (and can write to it)
  assert.equal(await sql(DB, `SELECT tableowner FROM pg_tables WHERE schemaname = '${SCHEMA}' AND tablename = 'items';`), SCHEMA);
  assert.equal((await get('/write?note=d')).status, 200);
  await sql(DB, `DELETE FROM ${SCHEMA}.items WHERE note = 'd';`);

  const missing = await paas.ssh(`postgres:restore ${DB} 1999-01-01`);
  assert.equal(missing.exitCode, 1);
  assert.match(
    missing.stderr,
    new RegExp(`^error: no backup '1999-01-01' of postgres service ${DB} \\(newest: ${name}; see postgres:backups`),
  );
});

test('export piped into import of a second instance gives the same rows; a corrupt dump changes nothing', async () => {
  const dump = path.join(paas.dataDir, 'dump.pgc');
  const ssh = (cmd: string) => ['ssh', ...sshOptions(paas.key.priv, paas.ports.ssh), 'paas@127.0.0.1', cmd].map((a) => `'${a}'`).join(' ');
  // streamed end to end: export | import, no file in between
  const piped = await execa('sh', ['-c', `${ssh(`postgres:export ${DB}`)} | ${ssh(`postgres:import ${DB2}`)}`], { reject: false });
  assert.equal(piped.exitCode, 0, piped.stderr);
  assert.match(piped.stdout, new RegExp(`^Imported into postgres service ${DB2}`));
  assert.equal(await sql(DB2, `SELECT string_agg(note, ',' ORDER BY id) FROM ${SCHEMA}.items;`), 'a,b,c');
  assert.equal(await sql(DB2, `SELECT tableowner FROM pg_tables WHERE tablename = 'items';`), SCHEMA, 'the owner came with the dump');
  // the dump is pg_dump's custom format
  await execa('sh', ['-c', `${ssh(`postgres:export ${DB}`)} > '${dump}'`]);
  assert.equal(fs.readFileSync(dump).subarray(0, 5).toString(), 'PGDMP');

  await sql(DB2, `INSERT INTO ${SCHEMA}.items (note) VALUES ('kept');`);
  for (const bad of ['this is not a dump', fs.readFileSync(dump).subarray(0, 600).toString('latin1')]) {
    const r = await paas.ssh(`postgres:import ${DB2}`, { input: bad });
    assert.equal(r.exitCode, 2, r.stderr);
    assert.match(r.stderr, new RegExp(`^error: not a valid postgres dump \\(.+\\); ${DB2} was not changed\\n$`));
    assert.equal(await sql(DB2, `SELECT string_agg(note, ',' ORDER BY id) FROM ${SCHEMA}.items;`), 'a,b,c,kept');
  }
});

test('a dump far larger than what the control plane holds streams through it (export to a file, import from it)', async (t) => {
  await sql(
    DB2,
    'CREATE TABLE big AS SELECT g AS id, md5(g::text) || md5((g + 1)::text) || md5((g + 2)::text) || md5((g + 3)::text) AS a FROM generate_series(1, 2000000) g;',
  );
  const dump = path.join(paas.dataDir, 'big.pgc');
  const ssh = (cmd: string) => ['ssh', ...sshOptions(paas.key.priv, paas.ports.ssh), 'paas@127.0.0.1', cmd].map((a) => `'${a}'`).join(' ');
  const rss = () => Number(/VmRSS:\s+(\d+)/.exec(fs.readFileSync(`/proc/${paas.pid}/status`, 'utf8'))![1]) * 1024;
  const base = rss();
  let peak = base;
  const sampler = setInterval(() => {
    peak = Math.max(peak, rss());
  }, 50);
  try {
    await execa('sh', ['-c', `${ssh(`postgres:export ${DB2}`)} > '${dump}'`]);
    const size = fs.statSync(dump).size;
    assert.ok(size > 40e6, `dump of ${size} bytes`);
    await sql(DB2, 'DROP TABLE big;');
    const r = await execa('sh', ['-c', `${ssh(`postgres:import ${DB2}`)} < '${dump}'`], { reject: false });
    assert.equal(r.exitCode, 0, r.stderr);
    t.diagnostic(`dump ${size} bytes; control plane RSS ${base} -> peak ${peak} bytes`);
    // Held whole, the dump alone would add at least its size. Streamed, the growth is buffer churn
    // that malloc and the GC give back late: 58-60% of the dump on a quiet machine, 83% once on a
    // loaded one, so the bound is the dump's own size: it fails only when the dump is held whole.
    assert.ok(peak - base < size, `control plane RSS grew ${peak - base} bytes for a ${size}-byte dump`);
  } finally {
    clearInterval(sampler);
    fs.rmSync(dump, { force: true });
  }
  assert.equal(await sql(DB2, 'SELECT count(*) FROM big;'), '2000000');
  await sql(DB2, 'DROP TABLE big;');
});

test('a backup that runs out of disk fails loudly: exit status, info and the log; no partial file is left', async () => {
  const dir = path.join(paas.dataDir, 'addons', 'postgres', DB, 'backups');
  // enough rows that the compressed dump outgrows a 64 KiB disk
  await sql(DB, `INSERT INTO ${SCHEMA}.items (note) SELECT md5(g::text) || md5((g * 7)::text) FROM generate_series(1, 20000) g;`);
  const kept = fs.readdirSync(dir);
  const moved = `${dir}.full`;
  fs.renameSync(dir, moved);
  fs.mkdirSync(dir);
  await execa('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', dir]);
  try {
    const r = await paas.ssh(`postgres:backup ${DB}`);
    assert.equal(r.exitCode, 1);
    assert.match(r.stderr, new RegExp(`^error: backup of postgres service ${DB} failed: .*(ENOSPC|no space left)`, 'i'));
    assert.deepEqual(fs.readdirSync(dir), [], 'no partial dump left behind');
    const info = await ok(`postgres:info ${DB}`);
    assert.match(info.stdout, /last backup: +FAILED at \S+: .*(ENOSPC|no space left)/i);
    assert.match(info.stdout, new RegExp(`WARNING: the last backup of ${DB} failed`));
    const json = JSON.parse((await ok(`postgres:info ${DB} --json`)).stdout);
    assert.equal(json.lastBackup.ok, false);
    assert.match(paas.log(), /"level":50,.*"msg":"add-on backup FAILED"/);
  } finally {
    await execa('umount', [dir]);
    fs.rmdirSync(dir);
    fs.renameSync(moved, dir);
  }
  assert.deepEqual(fs.readdirSync(dir), kept);
  await sql(DB, `DELETE FROM ${SCHEMA}.items WHERE id > 3;`);
});

test('unlink removes the variable under load with zero failed requests', async () => {
  const r = await underLoad(() => ok(`postgres:unlink ${DB} ${APP}`));
  assert.match(r.stdout, /DATABASE_URL removed/);
  assert.equal((await get('/db')).body, 'unlinked');
  const notLinked = await paas.ssh(`postgres:unlink ${DB} ${APP}`);
  assert.equal(notLinked.exitCode, 1);
  assert.match(notLinked.stderr, /is not linked to/);
  assert.match(r.stdout, new RegExp(`Login ${SCHEMA} disabled; its data stays in ${DB}`));
  assert.equal(await sql(DB, `SELECT rolcanlogin FROM pg_roles WHERE rolname = '${SCHEMA}';`), 'f');
  const c = await dockerClient().getContainer(`paas-postgres-${DB}`).inspect();
  assert.deepEqual(Object.keys(c.NetworkSettings.Networks), ['none'], 'the last unlink leaves it on no network');
});

test('logs, restart and connect with a pty over SSH', async () => {
  const logs = await ok(`postgres:logs ${DB} -n 50`);
  assert.match(logs.stdout, /database system is ready to accept connections/);
  // -t follows: a line the server logs after the command started arrives
  const follow = execa('ssh', [...sshOptions(paas.key.priv, paas.ports.ssh), 'paas@127.0.0.1', `postgres:logs ${DB} -t -n 1`], {
    reject: false,
  });
  let seen = '';
  follow.stdout!.on('data', (d: Buffer) => (seen += d.toString()));
  try {
    const marker = `marker-${ID}`;
    const deadline = Date.now() + 30_000;
    while (!seen.includes(marker) && Date.now() < deadline) {
      await sql(DB, `DO $$ BEGIN RAISE LOG '${marker}'; END $$;`);
      await new Promise((r) => setTimeout(r, 500));
    }
    assert.match(seen, new RegExp(`LOG: +${marker}`));
  } finally {
    follow.kill();
    await follow;
  }
  await ok(`postgres:restart ${DB}`);
  assert.equal(await sql(DB, `SELECT count(*) FROM ${SCHEMA}.items;`), '3');
  // a real pty: psql prompts and echoes as at a terminal
  const r = await execa('ssh', ['-tt', ...sshOptions(paas.key.priv, paas.ports.ssh), 'paas@127.0.0.1', `postgres:connect ${DB}`], {
    input: 'SELECT 40 + 2 AS answer;\n\\q\n',
    reject: false,
    timeout: 60_000,
  });
  assert.equal(r.exitCode, 0, r.stderr);
  assert.match(r.stdout, new RegExp(`${DB}=#`));
  assert.match(r.stdout, /answer[\s\S]*42/);
});

test('backup-schedule runs backups in the control plane, keeps N, and survives a restart', async () => {
  const bad = await paas.ssh(`postgres:backup-schedule ${DB} "not a cron"`);
  assert.equal(bad.exitCode, 2);
  assert.match(bad.stderr, /invalid schedule "not a cron"/);
  const badKeep = await paas.ssh(`postgres:backup-schedule ${DB} "0 3 * * *" --keep 0`);
  assert.equal(badKeep.exitCode, 2);
  // every 3 s (croner takes a seconds field first), keeping 2
  const set = await ok(`postgres:backup-schedule ${DB} "*/3 * * * * *" --keep 2`);
  assert.match(set.stdout, /Backing up postgres service .* keeping the newest 2; next run /);
  // a new control plane (the proxy keeps serving) picks the stored schedule up again
  await paas.stop('SIGUSR2');
  await paas.spawnServer();
  const deadline = Date.now() + 60_000;
  let names: string[] = [];
  const firstBefore = JSON.parse((await ok(`postgres:backups ${DB} --json`)).stdout)[0].name as string;
  while (Date.now() < deadline) {
    names = (JSON.parse((await ok(`postgres:backups ${DB} --json`)).stdout) as { name: string }[]).map((b) => b.name);
    if (names.length === 2 && !names.includes(firstBefore)) break;
    await new Promise((r) => setTimeout(r, 1000));
  }
  assert.equal(names.length, 2, `kept: ${names.join(', ')}`);
  assert.ok(!names.includes(firstBefore), 'older backups pruned');
  assert.match(paas.log(), /"trigger":"scheduled","msg":"add-on backup written and verified"/);
  await ok(`postgres:backup-schedule ${DB} --remove`);
  assert.match((await ok(`postgres:backup-schedule ${DB}`)).stdout, /no backup schedule/);
});

test('apps:destroy of a linked app drops its links and its network', async () => {
  const tmp = `pgtmp${ID}`;
  await ok(`apps:create ${tmp}`);
  await ok(`postgres:link ${DB2} ${tmp}`);
  assert.deepEqual(JSON.parse((await ok(`postgres:info ${DB2} --json`)).stdout).links, [tmp]);
  await ok(`apps:destroy ${tmp} --force`);
  assert.deepEqual(JSON.parse((await ok(`postgres:info ${DB2} --json`)).stdout).links, []);
  await assert.rejects(dockerClient().getNetwork(`paas-${tmp}`).inspect(), /no such network|not found/i);
});

test('destroy removes the container and the volume; the backups stay', async () => {
  await ok(`postgres:destroy ${DB2} ${DB2}`);
  const r = await ok(`postgres:destroy ${DB} --force`);
  assert.match(r.stdout, /Destroyed postgres service/);
  const docker = dockerClient();
  await assert.rejects(docker.getContainer(`paas-postgres-${DB}`).inspect(), /no such container/i);
  await assert.rejects(docker.getVolume(`paas-postgres-${DB}-data`).inspect(), /no such volume/i);
  assert.ok(fs.readdirSync(path.join(paas.dataDir, 'addons', 'postgres', DB, 'backups')).length > 0);
  const gone = await paas.ssh(`postgres:info ${DB}`);
  assert.equal(gone.exitCode, 1);
});
