import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { moveStorageMounts } from '../../../src/platform-backup/platform-backup-restore.js';
import { copyState } from '../../../src/platform-backup/state-copy.js';
import { State } from '../../../src/state/state.js';

const tmp = () => path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'paas-statecopy-')), 'paas.db');

test("the live database's rows become the backup's, in one transaction, while another handle has it open", () => {
  const backupFile = tmp();
  const old = State.open(backupFile);
  old.apps.create('moved');
  old.apps.create('also-moved');
  old.close();

  const liveFile = tmp();
  const live = State.open(liveFile);
  live.apps.create('local-only');
  const other = State.open(liveFile);
  const r = copyState(live.db, backupFile);
  assert.ok(r.rows >= 2);
  assert.deepEqual(
    other.apps.list().map((a) => a.name),
    ['also-moved', 'moved'],
    'another connection sees the restored rows',
  );
  assert.equal(live.db.pragma('foreign_keys', { simple: true }), 1, 'foreign keys are on again');
  // a new row after the copy takes a fresh id (sqlite_sequence came along)
  live.apps.create('after');
  assert.equal(live.apps.list().length, 3);
  live.close();
  other.close();
});

test('storage mounts under the old data dir point at the new one; other host paths stay', () => {
  const file = tmp();
  const s = State.open(file);
  s.apps.create('web');
  s.apps.create('other');
  s.appSettings.set('web', 'mounts', JSON.stringify(['/old/dir/storage/web/files:/files', '/srv/shared:/shared:ro']));
  s.appSettings.set('other', 'mounts', JSON.stringify(['/srv/x:/x']));
  assert.equal(moveStorageMounts(s.db, '/old/dir', '/new/place'), 1);
  assert.deepEqual(JSON.parse(s.appSettings.all('web').mounts!), ['/new/place/storage/web/files:/files', '/srv/shared:/shared:ro']);
  assert.deepEqual(JSON.parse(s.appSettings.all('other').mounts!), ['/srv/x:/x']);
  assert.equal(moveStorageMounts(s.db, '/new/place', '/new/place'), 0);
  s.close();
});
