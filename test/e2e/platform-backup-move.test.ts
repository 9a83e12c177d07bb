// Moving the whole platform with `paas admin backup create` / `restore`, against real servers,
// OpenSSH, git, Docker and Postgres: one data dir with two apps (one with its image saved, one
// to rebuild from its repo), a developer key, a custom certificate and a Postgres add-on with a
// row is backed up (encrypted to an ssh-ed25519 key); that server is stopped and its containers,
// networks, volumes and images removed; a second server on a fresh data dir gets the archive.
// Damaged, truncated and foreign-key archives are refused before anything changes; a host with
// apps is refused without --force.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { gunzipSync, gzipSync } from 'node:zlib';
import { GetObjectCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { execa } from 'execa';
import S3rver from 's3rver';
import { ensurePostgresImage, POSTGRES_IMAGE } from '../helpers/addon-images.js';
import { busyboxApp, commitFiles, healthAppJson, push, viaProxy } from '../helpers/app-repo.js';
import { ensureBusyboxImage } from '../helpers/base-images.js';
import { cleanupByLabel, requireDocker, runFilter } from '../helpers/docker.js';
import { servedCert, serialOf } from '../helpers/https-client.js';
import { makeKey, PaasServer, paasCli, sshOptions } from '../helpers/paas-server.js';
import { makeCa, makeCert } from '../helpers/test-certs.js';
import { waitFor } from '../helpers/wait.js';

const ID = randomBytes(3).toString('hex');
const SAVED = `bkimg${ID}`;
const REBUILT = `bkrepo${ID}`;
const DB = `bkpg${ID}`;
const HOST = `shop${ID}.example`;
const ENV = { PAAS_IMAGE_POSTGRES: POSTGRES_IMAGE };

let a: PaasServer;
let b: PaasServer;
let work: string;
let dev: { priv: string; pub: string };
let certSerial: string;
let encKey: { priv: string; pub: string };
let plainArchive: string;
let encArchive: string;
let encUrl: string;
let s3: S3rver;
let s3Port: number;
const S3_CREDS = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' };
const endpoint = () => `http://127.0.0.1:${s3Port}`;
/** `paas admin` with the S3 credentials in its environment */
const s3Admin = (p: PaasServer, args: string[]) =>
  paasCli(['admin', '--data-dir', p.dataDir, ...args], {
    env: { ...p.serverEnv, AWS_ACCESS_KEY_ID: S3_CREDS.accessKeyId, AWS_SECRET_ACCESS_KEY: S3_CREDS.secretAccessKey },
  });

const ok = async (p: PaasServer, command: string, input?: string) => {
  const r = await p.ssh(command, { input });
  assert.equal(r.exitCode, 0, `${command}: ${r.stderr}`);
  return r.stdout;
};
const sql = async (p: PaasServer, statement: string) =>
  (await ok(p, `postgres:connect ${DB}`, `\\pset footer off\n\\t on\n${statement}\n`)).trim();

before(async () => {
  await requireDocker();
  await Promise.all([ensureBusyboxImage(), ensurePostgresImage()]);
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'paas-move-'));
  a = await new PaasServer(ENV).start();
  // storage under the data dir, served by the app: it must come back with the app
  await ok(a, `apps:create ${SAVED}`);
  await ok(a, `storage:mount ${SAVED} files:/www/files`);
  const files = path.join(a.dataDir, 'storage', SAVED, 'files');
  fs.mkdirSync(files, { recursive: true, mode: 0o755 });
  fs.writeFileSync(path.join(files, 'kept.txt'), 'stored-before-the-move\n', { mode: 0o644 });
  for (const [app, marker] of [
    [SAVED, 'saved-image-app'],
    [REBUILT, 'rebuilt-app'],
  ] as const) {
    const dir = path.join(work, app);
    await commitFiles(dir, busyboxApp(marker, { 'app.json': healthAppJson() }));
    const r = await push(a, dir, app);
    assert.equal(r.exitCode, 0, r.output);
  }
  dev = await a.addDeveloper('dev', [SAVED]);
  await ok(a, `domains:add ${SAVED} ${HOST}`);
  const ca = await makeCa(path.join(work, 'ca'));
  const cert = await makeCert(ca, [HOST]);
  certSerial = serialOf(cert.cert);
  await ok(a, `certs:add ${SAVED}`, cert.bundle);
  await ok(a, `postgres:create ${DB}`);
  await sql(a, "CREATE TABLE moved (v text); INSERT INTO moved VALUES ('row-before-the-move');");
  encKey = await makeKey(work, 'backup-key');
  fs.mkdirSync(path.join(work, 's3'));
  s3 = new S3rver({
    address: '127.0.0.1',
    port: 0,
    silent: true,
    directory: path.join(work, 's3'),
    configureBuckets: [{ name: 'backups', configs: [] }],
  });
  s3Port = (await s3.run()).port;
});

after(async () => {
  await s3?.close().catch(() => {});
  await a?.destroy();
  await b?.destroy();
  if (work) fs.rmSync(work, { recursive: true, force: true });
});

test('backup create writes one archive with progress, says loudly when it is not encrypted, and refuses bad input', async () => {
  plainArchive = path.join(work, 'plain.tar.gz');
  const plain = await a.admin(['backup', 'create', '--to', plainArchive]);
  assert.equal(plain.exitCode, 0, String(plain.stderr));
  assert.match(String(plain.stdout), /-----> state: .* 2 app\(s\)/);
  assert.match(String(plain.stdout), /-----> repos: \d+ file\(s\)/);
  assert.match(String(plain.stdout), /backup written to .*plain\.tar\.gz: \d+ entries/);
  assert.match(String(plain.stderr), /WARNING: this archive is NOT encrypted/);
  assert.equal(fs.statSync(plainArchive).mode & 0o777, 0o600);

  const enc = await s3Admin(a, [
    'backup',
    'create',
    '--to',
    's3://backups/move/',
    '--endpoint',
    endpoint(),
    `--with-images=${SAVED}`,
    '--with-addons',
    '--encrypt-to',
    encKey.pub,
  ]);
  assert.equal(enc.exitCode, 0, String(enc.stderr));
  assert.match(String(enc.stdout), new RegExp(`image ${SAVED} v1 `));
  assert.doesNotMatch(String(enc.stdout), new RegExp(`image ${REBUILT}`));
  assert.match(String(enc.stdout), new RegExp(`add-on postgres ${DB}: verified dump`));
  assert.match(String(enc.stdout), /encrypted to ssh-ed25519 SHA256:/);
  assert.doesNotMatch(String(enc.stderr), /WARNING/);
  encUrl = /backup written to (s3:\/\/backups\/move\/paas-backup-\S+\.tar\.gz\.enc):/.exec(String(enc.stdout))?.[1] ?? '';
  assert.ok(encUrl, String(enc.stdout));
  encArchive = path.join(work, 'copy.tar.gz.enc');
  const client = new S3Client({ endpoint: endpoint(), region: 'us-east-1', forcePathStyle: true, credentials: S3_CREDS });
  const obj = await client.send(new GetObjectCommand({ Bucket: 'backups', Key: encUrl.slice('s3://backups/'.length) }));
  fs.writeFileSync(encArchive, await obj.Body!.transformToByteArray());
  client.destroy();
  assert.ok(!fs.readFileSync(encArchive).includes(Buffer.from('row-before-the-move')), 'no plaintext in the encrypted archive');

  for (const [args, why] of [
    [['backup', 'create'], /give the destination/],
    [['backup', 'create', '--to', plainArchive], /already exists/],
    [['backup', 'create', '--to', path.join(work, 'x.tgz'), '--encrypt-to', 'ssh-dss AAAA'], /unsupported key type|OpenSSH public key/],
    [['backup', 'create', '--to', path.join(work, 'y.tgz'), '--with-images=nope'], /app 'nope', which does not exist/],
    [['backup', 'create', '--to', path.join(work, 'z.tgz'), '--bogus'], /Unknown option '--bogus'/],
    [['backup', 'frobnicate'], /unknown backup command/],
  ] as const) {
    const r = await a.admin([...args]);
    assert.notEqual(r.exitCode, 0, args.join(' '));
    assert.match(String(r.stderr), why);
    assert.equal(String(r.stderr).trim().split('\n').length, 1, `one line: ${r.stderr}`);
  }
  assert.deepEqual(
    fs.readdirSync(work).filter((f) => /^[xyz]\.tgz/.test(f)),
    [],
  );
});

test('backup schedule runs in the daemon (croner), keeps the newest archives and copies each off-site; bad schedules are refused', async () => {
  const dir = path.join(work, 'scheduled');
  fs.mkdirSync(dir);
  const bad = await a.admin(['backup', 'schedule', '61 * * * *', '--to', dir]);
  assert.equal(bad.exitCode, 2);
  assert.match(String(bad.stderr), /^error: invalid schedule "61 \* \* \* \*": [^\n]*$/);
  const noDir = await a.admin(['backup', 'schedule', '0 3 * * *', '--to', path.join(work, 'nope')]);
  assert.equal(noDir.exitCode, 2);
  assert.match(String(noDir.stderr), /give --to DIR \(an existing folder\)/);
  assert.match(String((await a.admin(['backup', 'schedule'])).stdout), /no platform backup schedule/);

  const set = await s3Admin(a, [
    'backup',
    'schedule',
    '*/2 * * * * *',
    '--to',
    dir,
    '--keep',
    '1',
    '--offsite',
    's3://backups/sched',
    '--endpoint',
    endpoint(),
    '--encrypt-to',
    encKey.pub,
  ]);
  assert.equal(set.exitCode, 0, String(set.stderr));
  assert.match(
    String(set.stdout),
    /platform backup scheduled: \*\/2 \* \* \* \* \* \(UTC\), next \S+, into .*, copied to s3:\/\/backups\/sched/,
  );
  // two runs: the daemon picked the schedule up without a restart, and keeps only the newest archive
  const client = new S3Client({ endpoint: endpoint(), region: 'us-east-1', forcePathStyle: true, credentials: S3_CREDS });
  await waitFor(
    'two scheduled backups copied off-site',
    async () => {
      const l = await client.send(new ListObjectsV2Command({ Bucket: 'backups', Prefix: 'sched/' }));
      return (l.Contents?.length ?? 0) >= 2;
    },
    60_000,
    200,
  );
  client.destroy();
  const shown = String((await a.admin(['backup', 'schedule'])).stdout);
  assert.match(shown, /schedule: \*\/2 \* \* \* \* \* \(UTC\)/);
  assert.match(shown, /last run: \S+ ok .*paas-backup-.*\.tar\.gz\.enc and s3:\/\/backups\/sched\//);
  assert.equal((await a.admin(['backup', 'schedule', '--off'])).exitCode, 0);
  await waitFor(
    'the schedule stopped',
    async () => {
      const before = fs.readdirSync(dir).filter((f) => f.endsWith('.enc'));
      await new Promise((r) => setTimeout(r, 2500));
      const after = fs.readdirSync(dir).filter((f) => f.endsWith('.enc'));
      return before.join() === after.join() && after.length === 1;
    },
    20_000,
  );
});

test('the platform moves to a fresh host: same content, the key pushes, the certificate serves by SNI, the rows are back', async () => {
  // the old host goes away: its daemon, proxy, containers, networks, volumes and images
  await a.stop();
  const proxy = a.proxyPid();
  if (proxy) process.kill(proxy, 'SIGKILL');
  await cleanupByLabel(runFilter(a.labels));

  const noDaemon = await a.admin(['backup', 'restore', plainArchive]);
  assert.equal(noDaemon.exitCode, 2);
  assert.match(String(noDaemon.stderr), /^error: paas is not running on this data dir: start it first/);

  b = await new PaasServer(ENV).start();
  const keysBefore = await ok(b, 'ssh-keys:list');

  // refused before anything changes: damaged (valid gzip, one byte of an entry altered), truncated, wrong key
  const tar = gunzipSync(fs.readFileSync(plainArchive));
  const at = tar.indexOf(Buffer.from('SQLite format 3'));
  assert.ok(at > 0);
  tar[at + 2000] ^= 0xff;
  const damaged = path.join(work, 'damaged.tar.gz');
  fs.writeFileSync(damaged, gzipSync(tar));
  const truncated = path.join(work, 'truncated.tar.gz.enc');
  const enc = fs.readFileSync(encArchive);
  fs.writeFileSync(truncated, enc.subarray(0, Math.floor(enc.length * 0.7)));
  const other = await makeKey(work, 'other-key');
  for (const [args, why] of [
    [[damaged], /does not match its sha256/],
    [[truncated, '--identity', encKey.priv], /truncated|damaged/],
    [[encArchive, '--identity', other.priv], /encrypted to SHA256:.*not to this key/],
    [[encArchive], /is encrypted: give the private key/],
    [[path.join(work, 'missing.tgz')], /no archive at/],
  ] as const) {
    const r = await b.admin(['backup', 'restore', ...args]);
    assert.equal(r.exitCode, 2, `${args.join(' ')}: ${r.stdout}${r.stderr}`);
    assert.match(String(r.stderr), why);
    assert.equal(String(r.stderr).trim().split('\n').length, 1, String(r.stderr));
  }
  assert.equal((await ok(b, 'apps:list')).includes(SAVED), false, 'nothing was restored');
  assert.equal(await ok(b, 'ssh-keys:list'), keysBefore, 'the keys are unchanged');

  const t0 = Date.now();
  const r = await s3Admin(b, ['backup', 'restore', encUrl, '--endpoint', endpoint(), '--identity', encKey.priv]);
  assert.equal(r.exitCode, 0, `${r.stdout}\n${r.stderr}\n${b.log()}`);
  assert.match(String(r.stdout), /verified \d+ entries \(sha256\)/);
  assert.match(String(r.stdout), /storage mounts of 1 app\(s\) moved from \S+ to this data dir/);
  assert.match(String(r.stdout), new RegExp(`app \\d/2 ${SAVED}: live v1 from its saved image, health-gated`));
  assert.match(String(r.stdout), new RegExp(`app \\d/2 ${REBUILT}: live v2 rebuilt from its repo, health-gated`));
  assert.match(String(r.stdout), new RegExp(`add-on postgres ${DB}: recreated`));
  assert.match(String(r.stdout), /restore done in .*: 2\/2 app\(s\) live, 1\/1 add-on\(s\) back/);
  process.stdout.write(`# restore took ${Date.now() - t0} ms\n`);

  // the old host's keys are the keys now
  b.key = a.key;
  assert.equal((await viaProxy(b, `${SAVED}.paas.test`)).body, 'saved-image-app\n');
  assert.equal((await viaProxy(b, `${REBUILT}.paas.test`)).body, 'rebuilt-app\n');
  assert.equal((await viaProxy(b, `${SAVED}.paas.test`, '/files/kept.txt')).body, 'stored-before-the-move\n', 'the storage came back');
  assert.equal((await servedCert(b.ports.https, HOST)).serial, certSerial, 'the custom certificate serves by SNI');
  assert.equal(await sql(b, 'SELECT v FROM moved;'), 'row-before-the-move');

  const dir = path.join(work, SAVED);
  await commitFiles(dir, busyboxApp('after-the-move', { 'app.json': healthAppJson() }));
  const p = await execa('git', ['-C', dir, 'push', b.remoteUrl(SAVED), 'main'], {
    env: { GIT_SSH_COMMAND: `ssh ${sshOptions(dev.priv, b.ports.ssh).join(' ')}` },
    reject: false,
    all: true,
  });
  assert.equal(p.exitCode, 0, String(p.all));
  assert.equal((await viaProxy(b, `${SAVED}.paas.test`)).body, 'after-the-move\n');

  const again = await b.admin(['backup', 'restore', encArchive, '--identity', encKey.priv]);
  assert.equal(again.exitCode, 2);
  assert.match(String(again.stderr), /already has 2 app\(s\).*--force/);
  assert.equal((await viaProxy(b, `${SAVED}.paas.test`)).body, 'after-the-move\n', 'the refused restore changed nothing');
});
