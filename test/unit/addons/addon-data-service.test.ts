// AddonDataService: export/import streamed through the in-memory add-on containers (a volume of
// files: staging, the type's check, its restore), backups written under a temp dir, verified,
// recorded as the last backup and copied off-site, listed, restored and pruned.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { describe, test } from 'node:test';
import { gunzipSync } from 'node:zlib';
import { addonLockKey } from '../../../src/addons/addon-service.js';
import { type AddonType, withFile } from '../../../src/addons/addon-type.js';
import { POSTGRES_RESTORE } from '../../../src/addons/postgres-restore.js';
import { postgresType } from '../../../src/addons/postgres-type.js';
import { redisType } from '../../../src/addons/redis-type.js';
import { Captured } from '../fakes/deploy-fakes.js';
import { addonSetup, storedAddon } from '../fakes/addon-fakes.js';

const never = new AbortController().signal;
const PG = 'paas-postgres-db';

function withAddon(type: AddonType = postgresType) {
  const s = addonSetup(type);
  storedAddon(s, type, 'db');
  return { ...s, dir: path.join(s.backupsRoot, type.name, 'db', 'backups') };
}

/** The staging file each `cat > file` wrote, in order. */
const stagings = (s: ReturnType<typeof withAddon>) =>
  s.containers.execs.filter((e) => e.argv[2]?.startsWith('umask')).map((e) => e.argv[4]!);

describe('AddonDataService export and import', () => {
  test('export streams the type’s dump to the SSH channel; a failed dump names its last stderr line', async () => {
    const s = withAddon();
    const out = new Captured();
    await s.data.exportTo(postgresType, 'db', out, never);
    assert.equal(out.text, 'VALID dump of 3 tables');
    s.containers.script = ({ argv }) =>
      argv === postgresType.dump ? { exitCode: 1, stderr: 'warning\npg_dump: error: permission denied\n' } : undefined;
    await assert.rejects(s.data.exportTo(postgresType, 'db', out, never), {
      code: 'PAAS_ERR_ADDON_DUMP_FAILED',
      message: 'postgres dump of db failed (exit 1): pg_dump: error: permission denied',
    });
  });

  test('import stages stdin in the volume, checks it, restores it and removes the staging file', async () => {
    const s = withAddon();
    const held = await s.data.importFrom(postgresType, 'db', Readable.from(['VALID ', 'new data']), s.out, never);
    assert.equal(held, '3');
    const [staging] = stagings(s);
    assert.match(staging!, /^\/var\/lib\/postgresql\/data\/paas-staging-[0-9a-f]{8}$/);
    assert.deepEqual(
      s.containers.execs.map((e) => e.argv),
      [
        ['sh', '-c', 'umask 077; cat > "$1"', 'sh', staging],
        withFile(postgresType.verify, staging!),
        withFile(POSTGRES_RESTORE, staging!),
        ['rm', '-f', staging],
      ],
    );
    assert.equal(s.containers.execs[0]!.stdin, 'VALID new data');
    assert.equal(s.containers.files.size, 0);
  });

  test('a dump that does not check out is refused before the restore runs', async () => {
    const s = withAddon();
    await assert.rejects(s.data.importFrom(postgresType, 'db', Readable.from(['garbage']), s.out, never), {
      code: 'PAAS_ERR_ADDON_BAD_DUMP',
      message: 'not a valid postgres dump (pg_restore: error: input file is not a valid archive); db was not changed',
    });
    assert.equal(s.containers.ran(PG).length, 3);
    assert.equal(s.containers.ran(PG)[2], `rm -f ${stagings(s)[0]}`);
  });

  test('a restore that fails is reported as rolled back and the staging file removed', async () => {
    const s = withAddon();
    const restore = postgresType.restore.kind === 'exec' ? postgresType.restore.argv[2] : '';
    s.containers.script = ({ argv }) => (argv[2] === restore ? { exitCode: 1, stderr: 'ERROR: duplicate key\n' } : undefined);
    await assert.rejects(s.data.importFrom(postgresType, 'db', Readable.from(['VALID']), s.out, never), {
      code: 'PAAS_ERR_ADDON_RESTORE_FAILED',
      message: 'restore into db failed and was rolled back: ERROR: duplicate key',
    });
    assert.equal(s.containers.files.size, 0);
  });

  test('a Redis import stops the server, moves the dump into its place and starts it again', async () => {
    const s = withAddon(redisType);
    const c = 'paas-redis-db';
    assert.equal(await s.data.importFrom(redisType, 'db', Readable.from(['VALID rdb']), s.out, never), '3');
    const staging = stagings(s)[0]!;
    assert.deepEqual(s.containers.calls, [
      `stop ${c}`,
      `runTool redis:test paas-redis-db-data mv -f ${staging} /data/dump.rdb`,
      `startExisting ${c}`,
    ]);
    assert.deepEqual([...s.containers.files.keys()], ['/data/dump.rdb']);
    assert.equal(s.containers.files.get('/data/dump.rdb')!.toString(), 'VALID rdb');
    assert.ok(s.containers.ran(c).includes(redisType.probe.join(' ')));
  });

  test('a Redis dump that cannot be moved leaves the server started on its old data', async () => {
    const s = withAddon(redisType);
    s.containers.tool = { exitCode: 1, output: 'mv: cannot move: No space left on device\n' };
    await assert.rejects(s.data.importFrom(redisType, 'db', Readable.from(['VALID rdb']), s.out, never), {
      code: 'PAAS_ERR_ADDON_RESTORE_FAILED',
      message: 'cannot put the dump in place in db: mv: cannot move: No space left on device',
    });
    assert.equal(s.containers.calls.at(-1), 'startExisting paas-redis-db');
    assert.equal(s.containers.files.size, 0);
  });
});

describe('AddonDataService.backup', () => {
  test('writes the dump under the data dir, verifies it, records it and hands it to the off-site copy', async () => {
    const s = withAddon();
    s.offsite.url = 's3://bucket/db/x.dump';
    const r = await s.data.backup(postgresType, 'db', never);
    assert.deepEqual(fs.readdirSync(s.dir), [r.file]);
    assert.equal(r.file, `${r.name}.dump`);
    assert.match(r.name, /^\d{4}-\d\d-\d\dT\d\d-\d\d-\d\d-\d{3}Z$/);
    assert.equal(fs.readFileSync(path.join(s.dir, r.file), 'utf8'), 'VALID dump of 3 tables');
    assert.deepEqual([r.held, r.size, r.offsite], ['3', 22, 's3://bucket/db/x.dump']);
    assert.equal(s.offsite.file, path.join(s.dir, r.file));
    const last = s.state.addons.get('postgres', 'db')!.lastBackup!;
    assert.deepEqual({ ...last, at: typeof last.at }, { at: 'string', ok: true, name: r.name });
    assert.equal(s.containers.files.size, 0);
    assert.equal((fs.statSync(path.join(s.dir, r.file)).mode & 0o777).toString(8), '600');
  });

  test('a Redis backup is gzipped on disk and verified as the server wrote it', async () => {
    const s = withAddon(redisType);
    s.containers.dump = Buffer.from('VALID REDIS0011');
    const r = await s.data.backup(redisType, 'db', never);
    assert.equal(r.file, `${r.name}.rdb.gz`);
    assert.equal(gunzipSync(fs.readFileSync(path.join(s.dir, r.file))).toString(), 'VALID REDIS0011');
    assert.equal(s.containers.execs[1]!.stdin, 'VALID REDIS0011');
  });

  test('a dump that fails leaves no file and is recorded as a failed last backup', async () => {
    const s = withAddon();
    s.containers.script = ({ argv }) =>
      argv === postgresType.dump ? { exitCode: 1, stderr: 'pg_dump: error: connection lost' } : undefined;
    await assert.rejects(s.data.backup(postgresType, 'db', never, 'scheduled'), {
      code: 'PAAS_ERR_ADDON_BACKUP_FAILED',
      message: 'backup of postgres service db failed: the dump exited 1: pg_dump: error: connection lost',
    });
    assert.deepEqual(fs.readdirSync(s.dir), []);
    const last = s.state.addons.get('postgres', 'db')!.lastBackup!;
    assert.deepEqual([last.ok, last.error, last.name], [false, 'the dump exited 1: pg_dump: error: connection lost', undefined]);
  });

  test('a written dump that does not verify is not kept', async () => {
    const s = withAddon();
    s.containers.dump = Buffer.from('truncated');
    await assert.rejects(s.data.backup(postgresType, 'db', never), {
      code: 'PAAS_ERR_ADDON_BACKUP_FAILED',
      message:
        'backup of postgres service db failed: the written dump does not verify: pg_restore: error: input file is not a valid archive',
    });
    assert.deepEqual(fs.readdirSync(s.dir), []);
    assert.equal(s.state.addons.get('postgres', 'db')!.lastBackup!.ok, false);
  });

  test('an off-site copy that fails keeps the verified backup and records the failure', async () => {
    const s = withAddon();
    s.offsite.fails = 'AccessDenied';
    const err = await s.data.backup(postgresType, 'db', never).catch((e) => e);
    const [file] = fs.readdirSync(s.dir);
    const name = file!.replace(/\.dump$/, '');
    assert.equal(err.code, 'PAAS_ERR_ADDON_UPLOAD');
    assert.equal(err.message, `backup ${name} written and verified, but the off-site copy failed: AccessDenied`);
    const last = s.state.addons.get('postgres', 'db')!.lastBackup!;
    assert.deepEqual([last.ok, last.name, last.error], [false, name, 'off-site copy failed: AccessDenied']);
  });

  test('an unknown add-on records nothing; a stopped one is a failed backup', async () => {
    const s = withAddon();
    await assert.rejects(s.data.backup(postgresType, 'nope', never), { code: 'PAAS_ERR_ADDON_NOT_FOUND' });
    s.containers.running(PG, { running: false, status: 'exited' });
    await assert.rejects(s.data.backup(postgresType, 'db', never), {
      code: 'PAAS_ERR_ADDON_BACKUP_FAILED',
      message: "backup of postgres service db failed: postgres service 'db' is not running (exited); try postgres:restart db",
    });
  });

  test('an upgrade’s backup runs under the lock its caller holds; a manual one waits for it', async () => {
    const s = withAddon();
    let release!: () => void;
    const held = s.locks.withLock(addonLockKey('postgres', 'db'), 'postgres:upgrade', () => new Promise<void>((r) => (release = r)));
    const upgrade = await s.data.backup(postgresType, 'db', never, 'upgrade');
    assert.equal(upgrade.held, '3');
    let manualDone = false;
    const manual = s.data.backup(postgresType, 'db', never).then(() => (manualDone = true));
    await new Promise((r) => setTimeout(r, 20));
    assert.equal(manualDone, false);
    release();
    await Promise.all([held, manual]);
    assert.equal(manualDone, true);
  });
});

describe('AddonDataService backups, restore and prune', () => {
  const NAMES = ['2026-12-01T03-00-00-000Z', '2026-12-02T03-00-00-000Z', '2026-12-03T03-00-00-000Z'];
  function withBackups() {
    const s = withAddon();
    fs.mkdirSync(s.dir, { recursive: true });
    for (const n of NAMES) fs.writeFileSync(path.join(s.dir, `${n}.dump`), `VALID ${n}`);
    fs.writeFileSync(path.join(s.dir, `${NAMES[0]}.dump.partial`), 'half');
    return s;
  }

  test('backups lists the finished ones oldest first; an add-on without any lists none', () => {
    const s = withBackups();
    assert.deepEqual(
      s.data.backups(postgresType, 'db').map((b) => [b.name, b.file, b.size]),
      NAMES.map((n) => [n, `${n}.dump`, 30]),
    );
    storedAddon(s, postgresType, 'empty');
    assert.deepEqual(s.data.backups(postgresType, 'empty'), []);
    assert.throws(() => s.data.backups(postgresType, 'nope'), { code: 'PAAS_ERR_ADDON_NOT_FOUND' });
  });

  test('restore stages the named backup, checks it and restores it', async () => {
    const s = withBackups();
    assert.equal(await s.data.restore(postgresType, 'db', NAMES[1]!, s.out, never), '3');
    assert.equal(s.containers.execs[0]!.stdin, `VALID ${NAMES[1]}`);
    assert.equal(s.containers.files.size, 0);
    await s.data.restore(postgresType, 'db', `${NAMES[0]}.dump`, s.out, never);
    assert.equal(s.containers.execs.at(-4)!.stdin, `VALID ${NAMES[0]}`);
  });

  test('an unknown backup is refused naming the newest ones, and nothing runs in the container', async () => {
    const s = withBackups();
    await assert.rejects(s.data.restore(postgresType, 'db', '2025', s.out, never), {
      code: 'PAAS_ERR_ADDON_BACKUP_NOT_FOUND',
      message: `no backup '2025' of postgres service db (newest: ${NAMES.join(', ')}; see postgres:backups db)`,
    });
    storedAddon(s, postgresType, 'empty');
    await assert.rejects(s.data.restore(postgresType, 'empty', 'x', s.out, never), {
      message: "no backup 'x' of postgres service empty (it has none)",
    });
    assert.deepEqual(s.containers.execs, []);
  });

  test('prune keeps the newest and returns the names removed', () => {
    const s = withBackups();
    assert.deepEqual(s.data.prune(postgresType, 'db', 2), [NAMES[0]]);
    assert.deepEqual(
      s.data.backups(postgresType, 'db').map((b) => b.name),
      NAMES.slice(1),
    );
    assert.deepEqual(s.data.prune(postgresType, 'db', 5), []);
    assert.equal(s.data.backupPath(postgresType, 'db', s.data.backups(postgresType, 'db')[0]!), path.join(s.dir, `${NAMES[1]}.dump`));
  });
});

// a PassThrough import is the same path as an SSH channel's stdin
test('import reads a stream that ends later (the SSH channel) to its end', async () => {
  const s = withAddon();
  const stdin = new PassThrough();
  const done = s.data.importFrom(postgresType, 'db', stdin, s.out, never);
  stdin.write('VALID part1 ');
  setImmediate(() => stdin.end('part2'));
  assert.equal(await done, '3');
  assert.equal(s.containers.execs[0]!.stdin, 'VALID part1 part2');
});
