import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { test } from 'node:test';
import { gunzipSync, gzipSync } from 'node:zlib';
import { execa } from 'execa';
import tar from 'tar-stream';
import { archiveKind, extractArchive } from '../../../src/platform-backup/backup-archive-reader.js';
import { BackupArchiveWriter } from '../../../src/platform-backup/backup-archive-writer.js';
import { parseIdentity, parseRecipient } from '../../../src/platform-backup/backup-crypto.js';
import { walkFiles } from '../../../src/platform-backup/platform-backup-create.js';

const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), 'paas-bkarchive-'));

async function write(file: string, recipient: ReturnType<typeof parseRecipient> | null = null): Promise<Buffer> {
  const src = path.join(path.dirname(file), 'src.bin');
  const big = Buffer.alloc(200_000, 7);
  fs.writeFileSync(src, big);
  const w = new BackupArchiveWriter(fs.createWriteStream(file, { mode: 0o600 }), recipient);
  await w.addBuffer('paas-backup.json', Buffer.from('{"format":1}'));
  await w.addFile('data/repos/app/objects/big', src);
  await w.addStream('data/empty', Readable.from([]), 0);
  const m = await w.finish();
  assert.deepEqual(
    m.entries.map((e) => e.name),
    ['paas-backup.json', 'data/repos/app/objects/big', 'data/empty'],
  );
  assert.equal(w.bytesOut, fs.statSync(file).size);
  return big;
}

test('an archive round-trips: every entry back with its bytes, checked against the manifest', async () => {
  const dir = tmp();
  const file = path.join(dir, 'a.tar.gz');
  const big = await write(file);
  assert.equal(archiveKind(file), 'plain');
  const out = path.join(dir, 'out');
  fs.mkdirSync(out);
  const m = await extractArchive(file, out, null);
  assert.equal(m.entries.length, 3);
  assert.ok(fs.readFileSync(path.join(out, 'data/repos/app/objects/big')).equals(big));
  assert.equal(fs.readFileSync(path.join(out, 'data/empty')).length, 0);
  assert.ok(!fs.existsSync(path.join(out, 'manifest.json')), 'the manifest is read, not written out');
});

test('an encrypted archive needs the right key', async () => {
  const dir = tmp();
  await execa('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', path.join(dir, 'k')]);
  const file = path.join(dir, 'a.tar.gz.enc');
  await write(file, parseRecipient(fs.readFileSync(path.join(dir, 'k.pub'), 'utf8')));
  assert.equal(archiveKind(file), 'encrypted');
  const out = path.join(dir, 'out');
  fs.mkdirSync(out);
  await assert.rejects(extractArchive(file, out, null), /is encrypted: give the private key/);
  const m = await extractArchive(file, out, parseIdentity(fs.readFileSync(path.join(dir, 'k'), 'utf8')));
  assert.equal(m.entries.length, 3);
});

test('an altered entry, a truncated archive, a missing manifest and a hostile entry name are refused', async () => {
  const dir = tmp();
  const file = path.join(dir, 'a.tar.gz');
  await write(file);
  const fresh = () => fs.mkdtempSync(path.join(dir, 'x-'));

  const raw = gunzipSync(fs.readFileSync(file));
  const altered = Buffer.from(raw);
  altered[raw.indexOf(Buffer.alloc(64, 7)) + 10] = 8;
  fs.writeFileSync(path.join(dir, 'altered.tgz'), gzipSync(altered));
  await assert.rejects(
    extractArchive(path.join(dir, 'altered.tgz'), fresh(), null),
    /data\/repos\/app\/objects\/big does not match its sha256/,
  );

  const whole = fs.readFileSync(file);
  fs.writeFileSync(path.join(dir, 'cut.tgz'), whole.subarray(0, Math.floor(whole.length / 2)));
  await assert.rejects(extractArchive(path.join(dir, 'cut.tgz'), fresh(), null), /damaged or truncated/);

  // a well-formed tar.gz that stops before its manifest
  const noManifest = raw.subarray(0, raw.indexOf(Buffer.from('manifest.json')));
  fs.writeFileSync(path.join(dir, 'nomanifest.tgz'), gzipSync(Buffer.concat([noManifest, Buffer.alloc(1024)])));
  await assert.rejects(extractArchive(path.join(dir, 'nomanifest.tgz'), fresh(), null), /ends before its manifest/);

  const pack = tar.pack();
  pack.entry({ name: '../../etc/evil', size: 1 }, Buffer.from('x'));
  pack.finalize();
  const chunks: Buffer[] = [];
  for await (const c of pack) chunks.push(c as Buffer);
  fs.writeFileSync(path.join(dir, 'evil.tgz'), gzipSync(Buffer.concat(chunks)));
  const target = fresh();
  await assert.rejects(extractArchive(path.join(dir, 'evil.tgz'), target, null), /unexpected entry '\.\.\/\.\.\/etc\/evil'/);
  assert.ok(!fs.existsSync(path.join(target, '..', '..', 'etc', 'evil')));

  fs.writeFileSync(path.join(dir, 'junk'), 'hello');
  assert.equal(archiveKind(path.join(dir, 'junk')), 'unknown');
  await assert.rejects(extractArchive(path.join(dir, 'junk'), fresh(), null), /is not a paas backup/);
});

test('folders and files keep their permissions and owner, and names with spaces, unicode or 200 characters survive', async () => {
  const dir = tmp();
  const src = path.join(dir, 'storage');
  const long = `${'n'.repeat(200)}.txt`;
  fs.mkdirSync(path.join(src, 'app', 'uploads dir'), { recursive: true });
  fs.writeFileSync(path.join(src, 'app', 'uploads dir', 'café ☕.txt'), 'coffee');
  fs.writeFileSync(path.join(src, 'app', long), 'long');
  fs.chmodSync(path.join(src, 'app', 'uploads dir'), 0o2775);
  fs.chmodSync(path.join(src, 'app', long), 0o640);
  const asRoot = process.getuid?.() === 0;
  if (asRoot) {
    fs.chownSync(path.join(src, 'app', 'uploads dir'), 1234, 2345);
    fs.chownSync(path.join(src, 'app', long), 1234, 2345);
  }
  const file = path.join(dir, 'a.tar.gz');
  const w = new BackupArchiveWriter(fs.createWriteStream(file), null);
  const { dirs, files } = walkFiles(src);
  for (const d of dirs) await w.addDir(`data/storage/${d}`, path.join(src, d));
  for (const f of files) await w.addFile(`data/storage/${f}`, path.join(src, f));
  await w.finish();
  const out = path.join(dir, 'out');
  fs.mkdirSync(out);
  await extractArchive(file, out, null);
  const back = path.join(out, 'data', 'storage', 'app');
  assert.equal(fs.readFileSync(path.join(back, 'uploads dir', 'café ☕.txt'), 'utf8'), 'coffee');
  assert.equal(fs.readFileSync(path.join(back, long), 'utf8'), 'long');
  assert.equal(fs.statSync(path.join(back, 'uploads dir')).mode & 0o7777, 0o2775);
  assert.equal(fs.statSync(path.join(back, long)).mode & 0o7777, 0o640);
  if (asRoot) {
    const st = fs.statSync(path.join(back, 'uploads dir'));
    assert.deepEqual([st.uid, st.gid], [1234, 2345]);
    assert.equal(fs.statSync(path.join(back, long)).uid, 1234);
  }
});
