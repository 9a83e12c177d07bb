import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import BetterSqlite3 from 'better-sqlite3';
import { openDatabase, schemaVersion } from '../../../src/state/database.js';
import { MIGRATIONS } from '../../../src/state/migrations.js';
import { State } from '../../../src/state/state.js';

const tmp = () => path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'paas-state-')), 'paas.db');

test('a fresh database gets the latest schema, WAL and mode 600', () => {
  const file = tmp();
  const db = openDatabase(file);
  assert.equal(schemaVersion(db), MIGRATIONS.length);
  assert.equal(db.pragma('journal_mode', { simple: true }), 'wal');
  assert.equal(fs.statSync(file).mode & 0o777, 0o600);
  db.close();
});

test('a database made by the first schema is upgraded and keeps its rows', () => {
  const file = tmp();
  const v1 = openDatabase(file, MIGRATIONS.slice(0, 1));
  v1.prepare("INSERT INTO apps (name, created_at) VALUES ('old', 'x')").run();
  v1.prepare("INSERT INTO ssh_keys (name, fingerprint, public_key, created_at) VALUES ('alice', 'fp', 'k', 'x')").run();
  v1.prepare(
    "INSERT INTO releases (app, version, image, commit_sha, description, config_json, formation_json, status, created_at) VALUES ('old', 1, 'i', 'c', 'd', '{}', '{\"web\":1}', 'live', 'x')",
  ).run();
  assert.equal(schemaVersion(v1), 1);
  v1.close();
  const state = State.open(file);
  assert.equal(schemaVersion(state.db), MIGRATIONS.length);
  assert.equal(state.apps.get('old')?.name, 'old');
  assert.equal(state.keys.byName('alice')?.role, 'admin');
  const r = state.releases.current('old')!;
  assert.deepEqual(r.formation, { web: 1 });
  assert.deepEqual(r.processes, {});
  assert.equal(r.sourceImage, null);
  assert.equal(state.keys.byName('alice')?.can_create, 0);
  state.close();
});

test('a database newer than this paas is refused', () => {
  const file = tmp();
  const db = new BetterSqlite3(file);
  db.pragma(`user_version = ${MIGRATIONS.length + 1}`);
  db.close();
  assert.throws(() => openDatabase(file), /newer than this paas/);
});

test('release numbers are allocated per app and markLive supersedes the previous', () => {
  const state = State.open(tmp());
  state.apps.create('a');
  const base = {
    app: 'a',
    image: 'i',
    commitSha: 'c',
    description: 'd',
    config: { K: 'v' },
    formation: { web: 1 },
    status: 'deploying' as const,
    builder: 'dockerfile',
    processes: {},
    port: 5000,
  };
  const r1 = state.releases.create({ ...base, appChecks: { path: '/up', attempts: 3 } });
  assert.deepEqual(state.releases.get('a', 1)?.appChecks, { path: '/up', attempts: 3 });
  const r2 = state.releases.create(base);
  assert.deepEqual([r1.version, r2.version], [1, 2]);
  assert.equal(r2.sourceImage, null, 'a built release has no source image');
  const r3 = state.releases.create({ ...base, commitSha: null, sourceImage: 'sha256:abc' });
  assert.equal(state.releases.get('a', r3.version)?.sourceImage, 'sha256:abc');
  state.releases.markLive('a', 1);
  state.releases.markLive('a', 2);
  assert.equal(state.releases.current('a')?.version, 2);
  assert.equal(state.releases.get('a', 1)?.status, 'superseded');
  state.apps.delete('a');
  assert.equal(state.releases.list('a').length, 0, 'releases go with their app');
  state.close();
});

test('the audit log records commands without values', () => {
  const state = State.open(tmp());
  state.events.record({ keyName: 'alice', command: 'config:set', app: 'a', exitCode: 0 });
  const [e] = state.events.recent(1);
  assert.equal(e.command, 'config:set');
  assert.equal(e.key_name, 'alice');
  assert.deepEqual(Object.keys(e).sort(), ['app', 'at', 'command', 'detail', 'exit_code', 'id', 'key_name']);
  state.close();
});
