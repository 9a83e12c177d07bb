// Postgres add-on upgrades (a minor version in place; a major one by dump and restore into a new
// volume, the old one kept) and off-site copies of backups to an S3-compatible server (s3rver)
// on loopback.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { execa } from 'execa';
import S3rver from 's3rver';
import { ensurePostgresImage, POSTGRES_13_IMAGE, POSTGRES_IMAGE } from '../helpers/addon-images.js';
import { dockerClient, requireDocker } from '../helpers/docker.js';
import { PaasServer } from '../helpers/paas-server.js';

const ID = randomBytes(3).toString('hex');
const DB = `up${ID}`;
const APP = `upapp${ID}`;
const MINOR_TAG = `paas-test/postgres:13-${ID}`;
const LOGIN = `app_${APP}`;
let paas: PaasServer;
let s3: S3rver;
let s3Port: number;

const ok = async (command: string, input?: string) => {
  const r = await paas.ssh(command, { input });
  assert.equal(r.exitCode, 0, `${command}: ${r.stderr}`);
  return r;
};
const sql = async (statement: string) => (await ok(`postgres:connect ${DB}`, `\\pset footer off\n\\t on\n${statement}\n`)).stdout.trim();
const info = async () => JSON.parse((await ok(`postgres:info ${DB} --json`)).stdout);

before(async () => {
  await requireDocker();
  await Promise.all([ensurePostgresImage(15), ensurePostgresImage(13)]);
  await execa('docker', ['tag', POSTGRES_13_IMAGE, MINOR_TAG]);
  paas = await new PaasServer({ PAAS_IMAGE_POSTGRES: POSTGRES_IMAGE }).start();
  const dir = path.join(paas.dataDir, 's3');
  fs.mkdirSync(dir);
  s3 = new S3rver({ address: '127.0.0.1', port: 0, silent: true, directory: dir, configureBuckets: [{ name: 'backups', configs: [] }] });
  s3Port = (await s3.run()).port;
});
after(async () => {
  await s3?.close().catch(() => {});
  await paas?.destroy();
  await execa('docker', ['rmi', MINOR_TAG], { reject: false });
});

test('create --image pins an older version; upgrade within the major version recreates the container on the same volume', async () => {
  const c = await ok(`postgres:create ${DB} --image ${POSTGRES_13_IMAGE}`);
  assert.match(c.stdout, /\(postgres \(PostgreSQL\) 13\./);
  await ok(`apps:create ${APP}`);
  await ok(`postgres:link ${DB} ${APP}`);
  await sql("CREATE TABLE t (note text); INSERT INTO t VALUES ('one'), ('two');");
  // a table the app's own login made in its schema
  await sql(`SET ROLE ${LOGIN}; CREATE TABLE mine (n int); INSERT INTO mine VALUES (7); RESET ROLE;`);
  const before = await info();
  const r = await ok(`postgres:upgrade ${DB} --image ${MINOR_TAG}`);
  assert.match(r.stdout, new RegExp(`Upgraded postgres service ${DB} to ${MINOR_TAG} \\(13\\.\\d+\\) in place\\n$`));
  const after = await info();
  assert.equal(after.image, MINOR_TAG);
  assert.equal(after.volume, before.volume);
  assert.equal(await sql("SELECT string_agg(note, ',') FROM t;"), 'one,two');
  const net = await dockerClient().getContainer(`paas-postgres-${DB}`).inspect();
  assert.ok(Object.keys(net.NetworkSettings.Networks).includes(`paas-${APP}`), 'still on the linked app network');
});

test('bad upgrades change nothing: no image, a missing image, the same image', async () => {
  const none = await paas.ssh(`postgres:upgrade ${DB}`);
  assert.equal(none.exitCode, 2);
  assert.match(none.stderr, /needs --image/);
  const missing = await paas.ssh(`postgres:upgrade ${DB} --image paas-test/nosuch:${ID}`);
  assert.equal(missing.exitCode, 1);
  assert.match(missing.stderr, /not on this host and cannot be pulled/);
  const same = await paas.ssh(`postgres:upgrade ${DB} --image ${MINOR_TAG}`);
  assert.equal(same.exitCode, 1);
  assert.match(same.stderr, /already runs/);
  assert.equal((await info()).image, MINOR_TAG);
  assert.equal(await sql('SELECT count(*) FROM t;'), '2');
});

test('a major upgrade dumps and restores into a new volume and keeps the old one; a downgrade is refused', async () => {
  const before = await info();
  const r = await ok(`postgres:upgrade ${DB} --image ${POSTGRES_IMAGE}`);
  assert.match(r.stdout, /major upgrade by dump and restore into a new volume/);
  // writes stop before the dump (an app's write fails instead of being lost with the old files)
  assert.match(r.stdout, /Writes refused until the upgrade ends/);
  assert.match(
    r.stdout,
    new RegExp(`\\(15\\.\\d+\\) by dump and restore into paas-postgres-${DB}-data-2; the old volume ${before.volume} is kept`),
  );
  const after = await info();
  assert.equal(after.image, POSTGRES_IMAGE);
  assert.equal(after.volume, `paas-postgres-${DB}-data-2`);
  assert.deepEqual(after.oldVolumes, [before.volume]);
  assert.match(after.version, /PostgreSQL\) 15\./);
  // the new server takes writes: the freeze stayed with the retired data files
  await sql("INSERT INTO t VALUES ('three');");
  assert.equal(await sql("SELECT string_agg(note, ',') FROM t;"), 'one,two,three');
  // the app's login was made on the new server before the restore: it owns its table again and
  // logs in with the password its URL holds
  assert.equal(await sql(`SELECT tableowner FROM pg_tables WHERE tablename = 'mine';`), LOGIN);
  const url = new URL((await ok(`config:get ${APP} DATABASE_URL`)).stdout.trim());
  assert.equal(url.username, LOGIN);
  const asApp = await execa(
    'docker',
    [
      'exec',
      '-e',
      `PGPASSWORD=${url.password}`,
      `paas-postgres-${DB}`,
      'psql',
      '-h',
      '127.0.0.1',
      '-U',
      LOGIN,
      '-d',
      DB,
      '-Atc',
      'SELECT n FROM mine',
    ],
    { reject: false },
  );
  assert.equal(asApp.stdout.trim(), '7', asApp.stderr);
  await dockerClient().getVolume(before.volume).inspect();
  assert.match((await ok(`postgres:info ${DB}`)).stdout, new RegExp(`kept volumes: +${before.volume}`));
  const down = await paas.ssh(`postgres:upgrade ${DB} --image ${POSTGRES_13_IMAGE}`);
  assert.equal(down.exitCode, 1);
  assert.match(down.stderr, /downgrades are refused; nothing was changed/);
  assert.equal((await info()).image, POSTGRES_IMAGE);
});

test('backup-target checks the bucket and credentials, then every backup is copied off-site', async () => {
  const endpoint = `http://127.0.0.1:${s3Port}`;
  const badUrl = await paas.ssh(`postgres:backup-target ${DB} https://backups --endpoint ${endpoint}`, { input: 'S3RVER S3RVER' });
  assert.equal(badUrl.exitCode, 2);
  assert.match(badUrl.stderr, /use s3:\/\/bucket\/prefix/);
  const noCreds = await paas.ssh(`postgres:backup-target ${DB} s3://backups/pg --endpoint ${endpoint}`);
  assert.equal(noCreds.exitCode, 2);
  assert.match(noCreds.stderr, /ACCESS_KEY_ID SECRET_ACCESS_KEY/);
  const wrongKey = await paas.ssh(`postgres:backup-target ${DB} s3://backups/pg --endpoint ${endpoint}`, { input: 'WRONG WRONG\n' });
  assert.equal(wrongKey.exitCode, 2);
  assert.match(wrongKey.stderr, /bucket backups did not answer/);
  const noBucket = await paas.ssh(`postgres:backup-target ${DB} s3://nobucket${ID}/pg --endpoint ${endpoint}`, {
    input: 'S3RVER S3RVER\n',
  });
  assert.equal(noBucket.exitCode, 2);
  assert.equal((await info()).backupTarget, null);
  const backupsBefore = JSON.parse((await ok(`postgres:backups ${DB} --json`)).stdout).length as number;

  const set = await ok(`postgres:backup-target ${DB} s3://backups/pg --endpoint ${endpoint}`, 'S3RVER S3RVER\n');
  assert.match(set.stdout, /copied to s3:\/\/backups\/pg at http:\/\/127\.0\.0\.1:\d+ \(key S3RVER\)/);
  assert.equal((await info()).backupTarget, 's3://backups/pg');
  const b = await ok(`postgres:backup ${DB}`);
  const m = /copied to s3:\/\/backups\/(pg\/\S+\.dump)\n$/.exec(b.stdout);
  assert.ok(m, b.stdout);
  const client = new S3Client({
    endpoint,
    region: 'us-east-1',
    forcePathStyle: true,
    credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
  });
  const obj = await client.send(new GetObjectCommand({ Bucket: 'backups', Key: m[1] }));
  const remote = Buffer.from(await obj.Body!.transformToByteArray());
  client.destroy();
  const local = fs.readFileSync(path.join(paas.dataDir, 'addons', 'postgres', DB, 'backups', path.basename(m[1]!)));
  assert.ok(remote.equals(local), 'the off-site copy is the same bytes');

  // the store goes away: the backup is kept locally, but the failure is loud
  await s3.close();
  const failed = await paas.ssh(`postgres:backup ${DB}`);
  assert.equal(failed.exitCode, 1);
  assert.match(failed.stderr, /written and verified, but the off-site copy failed/);
  assert.match((await ok(`postgres:info ${DB}`)).stdout, /last backup: +FAILED at .*off-site copy failed/);
  // the backup whose copy failed is kept locally all the same
  assert.equal(JSON.parse((await ok(`postgres:backups ${DB} --json`)).stdout).length, backupsBefore + 2);
  await ok(`postgres:backup-target ${DB} --remove`);
  await ok(`postgres:backup ${DB}`);
  assert.equal((await info()).lastBackup.ok, true);
});

test('destroy removes the kept volumes too', async () => {
  await ok(`postgres:unlink ${DB} ${APP}`);
  await ok(`postgres:destroy ${DB} --force`);
  for (const v of [`paas-postgres-${DB}-data`, `paas-postgres-${DB}-data-2`])
    await assert.rejects(dockerClient().getVolume(v).inspect(), /no such volume/i);
});
