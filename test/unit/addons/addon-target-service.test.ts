// AddonTargetService: off-site backup targets checked against a fake S3 endpoint on loopback (an
// HTTP server answering HeadBucket and PutObject as the test tells it, recording each request),
// stored without their secret in what is shown, and backups uploaded under the target's prefix.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { AddonTargetService } from '../../../src/addons/addon-target-service.js';
import { postgresType } from '../../../src/addons/postgres-type.js';
import { addonSetup, storedAddon } from '../fakes/addon-fakes.js';

const never = new AbortController().signal;
const CREDS = 'AKIDTEST  s3cr3t-key\n';

interface S3Request {
  method: string;
  url: string;
  auth: string;
  body: string;
}

/** The fake S3 endpoint: every request recorded; `status` answers the next ones. */
const s3 = { requests: [] as S3Request[], status: 200, endpoint: '' };
const server = http.createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    s3.requests.push({
      method: req.method!,
      url: req.url!,
      auth: String(req.headers.authorization),
      body: Buffer.concat(chunks).toString(),
    });
    res.writeHead(s3.status, { ETag: '"e1"', 'Content-Type': 'application/xml' });
    res.end(s3.status === 200 ? '' : '<Error><Code>AccessDenied</Code><Message>Access Denied</Message></Error>');
  });
});
before(async () => {
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  s3.endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
after(() => server.close());

function setup() {
  const s = addonSetup(postgresType);
  storedAddon(s, postgresType, 'db');
  s3.requests.length = 0;
  s3.status = 200;
  return { ...s, targets: new AddonTargetService({ addons: s.state.addons, service: s.service }) };
}
const input = (url: string, over: { endpoint?: string; credentials?: string } = {}) => ({
  url,
  endpoint: s3.endpoint,
  region: undefined,
  credentials: CREDS,
  ...over,
});

describe('AddonTargetService.set', () => {
  test('checks the bucket answers with the credentials, stores the target and shows it without the secret', async () => {
    const s = setup();
    const shown = await s.targets.set(postgresType, 'db', input('s3://paas-backups/prod/db/'), never);
    assert.equal(shown, `s3://paas-backups/prod/db/ at ${s3.endpoint} (key AKIDTEST)`);
    assert.deepEqual(
      s3.requests.map((r) => [r.method, r.url]),
      [['HEAD', '/paas-backups/']],
    );
    assert.match(s3.requests[0]!.auth, /^AWS4-HMAC-SHA256 Credential=AKIDTEST\/\d{8}\/us-east-1\/s3\/aws4_request/);
    assert.deepEqual(s.state.addons.get('postgres', 'db')!.target, {
      url: 's3://paas-backups/prod/db/',
      endpoint: s3.endpoint,
      region: 'us-east-1',
      accessKeyId: 'AKIDTEST',
      secretAccessKey: 's3cr3t-key',
    });
    assert.equal(s.targets.describe(postgresType, 'db'), shown);
  });

  test('a bucket that refuses the credentials is reported and nothing is stored', async () => {
    const s = setup();
    s3.status = 403;
    const err = await s.targets.set(postgresType, 'db', input('s3://paas-backups'), never).catch((e) => e);
    assert.equal(err.code, 'PAAS_ERR_ADDON_TARGET');
    assert.ok(err.message.startsWith(`bucket paas-backups did not answer at ${s3.endpoint}: `), err.message);
    assert.match(err.message, / 403\b/);
    assert.equal(s.state.addons.get('postgres', 'db')!.target, null);
  });

  test('a bad URL, endpoint or credentials, or an unknown add-on, is refused before any request', async () => {
    const s = setup();
    const refused = [
      [input('https://bucket/x'), "invalid backup target 'https://bucket/x': use s3://bucket/prefix"],
      [input('s3://Bucket/x'), "invalid backup target 's3://Bucket/x': use s3://bucket/prefix"],
      [input('s3://ab'), "invalid backup target 's3://ab': use s3://bucket/prefix"],
      [input('s3://bucket', { endpoint: 'minio:9000' }), "invalid --endpoint 'minio:9000': use http(s)://host[:port]"],
      [input('s3://bucket', { credentials: 'only-one' }), 'give the credentials on stdin as: ACCESS_KEY_ID SECRET_ACCESS_KEY'],
      [input('s3://bucket', { credentials: 'a b c' }), 'give the credentials on stdin as: ACCESS_KEY_ID SECRET_ACCESS_KEY'],
    ] as const;
    for (const [i, message] of refused)
      await assert.rejects(s.targets.set(postgresType, 'db', i, never), { code: 'PAAS_ERR_ADDON_TARGET', message });
    await assert.rejects(s.targets.set(postgresType, 'nope', input('s3://bucket'), never), { code: 'PAAS_ERR_ADDON_NOT_FOUND' });
    assert.deepEqual(s3.requests, []);
    assert.equal(s.state.addons.get('postgres', 'db')!.target, null);
  });
});

describe('AddonTargetService remove, describe and upload', () => {
  test('remove forgets the target; describe then shows none', async () => {
    const s = setup();
    await s.targets.set(postgresType, 'db', input('s3://paas-backups'), never);
    s.targets.remove(postgresType, 'db');
    assert.equal(s.state.addons.get('postgres', 'db')!.target, null);
    assert.equal(s.targets.describe(postgresType, 'db'), null);
    assert.throws(() => s.targets.remove(postgresType, 'nope'), { code: 'PAAS_ERR_ADDON_NOT_FOUND' });
  });

  test('upload puts the backup file under the target’s prefix and returns its s3:// URL; no target, no upload', async () => {
    const s = setup();
    const file = path.join(s.backupsRoot, '2026-12-06T03-00-00-000Z.dump');
    fs.writeFileSync(file, 'PGDMP backup bytes');
    assert.equal(await s.targets.upload(s.state.addons.get('postgres', 'db')!, file), null);
    await s.targets.set(postgresType, 'db', input('s3://paas-backups/prod//'), never);
    s3.requests.length = 0;
    const url = await s.targets.upload(s.state.addons.get('postgres', 'db')!, file);
    assert.equal(url, 's3://paas-backups/prod/2026-12-06T03-00-00-000Z.dump');
    assert.deepEqual(
      s3.requests.map((r) => [r.method, r.url.split('?')[0]]),
      [['PUT', '/paas-backups/prod/2026-12-06T03-00-00-000Z.dump']],
    );
    assert.ok(s3.requests[0]!.body.includes('PGDMP backup bytes'));
  });

  test('a target without a prefix puts the file at the bucket’s root', async () => {
    const s = setup();
    const file = path.join(s.backupsRoot, 'b.rdb.gz');
    fs.writeFileSync(file, 'x');
    await s.targets.set(postgresType, 'db', input('s3://paas-backups'), never);
    assert.equal(await s.targets.upload(s.state.addons.get('postgres', 'db')!, file), 's3://paas-backups/b.rdb.gz');
  });
});
