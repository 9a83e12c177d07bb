// Redis as an add-on, against a real redis-server: an app linked through REDIS_URL counts; an
// RDB backup is verified and restores the count; export piped into import of a second instance
// gives the same keys; a corrupt RDB changes nothing.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { execa } from 'execa';
import { ensureRedisImage, REDIS_IMAGE } from '../helpers/addon-images.js';
import { commitFiles, push, viaProxy } from '../helpers/app-repo.js';
import { ensureNodeImage } from '../helpers/base-images.js';
import { redisApp } from '../helpers/db-apps.js';
import { dockerClient, requireDocker } from '../helpers/docker.js';
import { PaasServer, sshOptions } from '../helpers/paas-server.js';

const ID = randomBytes(3).toString('hex');
const R1 = `rd${ID}`;
const R2 = `rdcopy${ID}`;
const APP = `rdapp${ID}`;
let paas: PaasServer;

const ok = async (command: string, input?: string) => {
  const r = await paas.ssh(command, { input });
  assert.equal(r.exitCode, 0, `${command}: ${r.stderr}`);
  return r;
};
const hit = async () => {
  const r = await viaProxy(paas, `${APP}.paas.test`, '/hit', 30_000);
  assert.equal(r.status, 200, r.body);
  return Number(r.body);
};
const cli = async (name: string, line: string) => (await ok(`redis:connect ${name}`, `${line}\n`)).stdout.trim();

before(async () => {
  await requireDocker();
  await Promise.all([ensureNodeImage(), ensureRedisImage()]);
  paas = await new PaasServer({ PAAS_IMAGE_REDIS: REDIS_IMAGE }).start();
  const dir = path.join(paas.dataDir, 'work', APP);
  await commitFiles(dir, redisApp());
  const r = await push(paas, dir, APP);
  assert.equal(r.exitCode, 0, r.output);
});
after(async () => {
  await paas?.destroy();
});

test('a Redis-linked app counts through REDIS_URL; the password is required', async () => {
  const c = await ok(`redis:create ${R1}`);
  assert.match(c.stdout, new RegExp(`Created redis service ${R1}: ${REDIS_IMAGE} \\(Redis server v=7\\.`));
  const l = await ok(`redis:link ${R1} ${APP}`);
  assert.match(l.stdout, /as REDIS_URL\n/);
  assert.match((await ok(`config:get ${APP} REDIS_URL`)).stdout, new RegExp(`^redis://:[0-9a-f]{64}@paas-redis-${R1}:6379\\n$`));
  assert.equal(await hit(), 1);
  assert.equal(await hit(), 2);
  assert.equal(await hit(), 3);
  // without the password the server refuses (redis-cli in the container, REDISCLI_AUTH unset)
  const r = await dockerClient()
    .getContainer(`paas-redis-${R1}`)
    .exec({ Cmd: ['sh', '-c', 'REDISCLI_AUTH= redis-cli -h 127.0.0.1 GET hits'], AttachStdout: true, AttachStderr: true });
  const out = await new Promise<string>((resolve) => {
    void r.start({}).then((s) => {
      let text = '';
      s.on('data', (d: Buffer) => (text += d.toString()));
      s.on('end', () => resolve(text));
    });
  });
  assert.match(out, /NOAUTH/);
  const info = JSON.parse((await ok(`redis:info ${R1} --json`)).stdout);
  assert.deepEqual(info.links, [APP]);
  assert.equal(info.status, 'running');
  assert.match((await paas.ssh('redis:list')).stdout, new RegExp(`${R1} .* running +${APP}`));
});

test('backup is an RDB check-verified gzip; restore brings the count back', async () => {
  const b = await ok(`redis:backup ${R1}`);
  assert.match(b.stdout, /^Backup (\S+) of redis service .*, verified \(1 keys read\)\n$/);
  const name = /^Backup (\S+)/.exec(b.stdout)![1]!;
  const list = JSON.parse((await ok(`redis:backups ${R1} --json`)).stdout) as { name: string; file: string }[];
  assert.deepEqual(
    list.map((x) => x.file),
    [`${name}.rdb.gz`],
  );
  assert.equal(await cli(R1, 'FLUSHALL'), 'OK');
  assert.equal(await hit(), 1);
  const r = await ok(`redis:restore ${R1} ${name}`);
  assert.equal(r.stdout, `Restored ${name} into redis service ${R1}\n`);
  assert.equal(await hit(), 4);
  assert.equal(JSON.parse((await ok(`redis:info ${R1} --json`)).stdout).lastBackup.name, name);
});

test('export piped into import of a second instance gives the same keys; a corrupt RDB changes nothing', async () => {
  await ok(`redis:create ${R2}`);
  const ssh = (cmd: string) => ['ssh', ...sshOptions(paas.key.priv, paas.ports.ssh), 'paas@127.0.0.1', cmd].map((a) => `'${a}'`).join(' ');
  const piped = await execa('sh', ['-c', `${ssh(`redis:export ${R1}`)} | ${ssh(`redis:import ${R2}`)}`], { reject: false });
  assert.equal(piped.exitCode, 0, piped.stderr);
  assert.match(piped.stdout, new RegExp(`^Imported into redis service ${R2} \\(1 keys read\\)`));
  assert.equal(await cli(R2, 'GET hits'), '4');
  await cli(R2, 'SET kept yes');
  const rdb = (await execa('sh', ['-c', `${ssh(`redis:export ${R1}`)} | head -c 5`])).stdout;
  assert.equal(rdb, 'REDIS');
  for (const bad of ['not an rdb at all', 'REDIS0009\u00fa\tredis-ver']) {
    const r = await paas.ssh(`redis:import ${R2}`, { input: bad });
    assert.equal(r.exitCode, 2, r.stderr);
    assert.match(r.stderr, new RegExp(`^error: not a valid redis dump \\(.*\\); ${R2} was not changed\\n$`));
    assert.equal(await cli(R2, 'GET kept'), 'yes');
    assert.equal(await cli(R2, 'GET hits'), '4');
  }
});

test('scheduled backups, a backup target that does not answer, an upgrade in place', async () => {
  const bad = await paas.ssh(`redis:backup-schedule ${R1} "61 * * * *"`);
  assert.equal(bad.exitCode, 2);
  await ok(`redis:backup-schedule ${R1} "*/2 * * * * *" --keep 1`);
  const deadline = Date.now() + 60_000;
  while (!/"type":"redis".*"trigger":"scheduled","msg":"add-on backup written and verified"/.test(paas.log()) && Date.now() < deadline)
    await new Promise((r) => setTimeout(r, 500));
  await ok(`redis:backup-schedule ${R1} --remove`);
  assert.match(paas.log(), /"type":"redis".*"trigger":"scheduled","msg":"add-on backup written and verified"/);
  const target = await paas.ssh(`redis:backup-target ${R1} s3://backups/redis --endpoint http://127.0.0.1:9`, { input: 'KEY SECRET\n' });
  assert.equal(target.exitCode, 2);
  assert.match(target.stderr, /bucket backups did not answer at http:\/\/127\.0\.0\.1:9/);
  assert.equal(JSON.parse((await ok(`redis:info ${R1} --json`)).stdout).backupTarget, null);
  const tag = `paas-test/redis:7-${ID}`;
  await execa('docker', ['tag', REDIS_IMAGE, tag]);
  try {
    const up = await ok(`redis:upgrade ${R1} --image ${tag}`);
    assert.match(up.stdout, new RegExp(`to ${tag} \\(7\\.\\d+\\.\\d+\\) in place`));
    assert.equal(await hit(), 5);
    // back to the first image, so the tag can go
    await ok(`redis:upgrade ${R1} --image ${REDIS_IMAGE}`);
  } finally {
    await execa('docker', ['rmi', tag], { reject: false });
  }
});

test('logs, restart, unlink, destroy', async () => {
  assert.match((await ok(`redis:logs ${R1}`)).stdout, /Ready to accept connections/);
  await ok(`redis:restart ${R1}`);
  assert.equal(await hit(), 6);
  const refused = await paas.ssh(`redis:destroy ${R1} --force`);
  assert.equal(refused.exitCode, 1);
  assert.match(refused.stderr, /is linked to/);
  await ok(`redis:unlink ${R1} ${APP}`);
  assert.equal((await ok(`config:show ${APP}`)).stdout.includes('REDIS_URL'), false);
  await ok(`redis:destroy ${R1} --force`);
  await ok(`redis:destroy ${R2} ${R2}`);
  assert.match((await paas.ssh('redis:list')).stdout, /^no redis services\n$/);
  // a volume left behind by an earlier instance is never adopted (its data has another password)
  const left = `paas-redis-${R1}-data`;
  await dockerClient().createVolume({ Name: left, Labels: paas.labels });
  const again = await paas.ssh(`redis:create ${R1}`);
  assert.equal(again.exitCode, 1);
  assert.match(again.stderr, new RegExp(`the volume ${left} already exists`));
  await dockerClient().getVolume(left).remove();
  assert.match((await paas.ssh('redis:list')).stdout, /^no redis services\n$/);
});
