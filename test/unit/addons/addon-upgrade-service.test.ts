import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { describe, test } from 'node:test';
import { postgresType } from '../../../src/addons/postgres-type.js';
import { redisType } from '../../../src/addons/redis-type.js';
import { silentLogger } from '../../../src/log/logger.js';
import { AddonUpgradeService, type AddonUpgradeDeps } from '../../../src/addons/addon-upgrade-service.js';
import type { AddonRow } from '../../../src/state/addons-repository.js';

const row: AddonRow = {
  type: 'postgres',
  name: 'db',
  image: 'pg:13',
  container: 'paas-postgres-db',
  volume: 'paas-postgres-db-data',
  user: 'postgres',
  password: 'pw',
  database: 'db',
  createdAt: '2026-11-30T00:00:00Z',
  schedule: null,
  keep: null,
  target: null,
  lastBackup: null,
  oldVolumes: [],
  memoryBytes: null,
};

/** A major upgrade 13 -> 15 whose backup step does `backup`; records what ran in the old container. */
function setup(backup: () => Promise<{ name: string }>, freezeExit = 0) {
  const ran: string[] = [];
  const deps = {
    addons: { setImage: () => ran.push('setImage'), links: () => [] },
    service: {
      running: async () => row,
      withLock: async (_t: unknown, _n: unknown, _w: unknown, _o: unknown, _s: unknown, fn: () => Promise<unknown>) => fn(),
      startContainer: async () => ran.push('start'),
      ensureLogins: async () => ran.push('logins'),
    },
    data: { backup, restoreFile: async () => ran.push('restore'), backupPath: () => '/b' },
    containers: {
      ensureImage: async () => {},
      exec: async (_c: string, argv: string[]) => {
        if (argv === postgresType.version) return { exitCode: 0, stderr: '', output: 'postgres (PostgreSQL) 13.16\n' };
        if (argv === postgresType.freezeWrites) {
          ran.push('freeze');
          return { exitCode: freezeExit, stderr: freezeExit ? 'FATAL: must be superuser' : '', output: '' };
        }
        if (argv === postgresType.thawWrites) ran.push('thaw');
        return { exitCode: 0, stderr: '', output: '' };
      },
      runTool: async () => ({ exitCode: 0, stderr: '', output: 'postgres (PostgreSQL) 15.8\n' }),
      stop: async () => ran.push('stop'),
      remove: async () => ran.push('remove'),
      createVolume: async () => ran.push('createVolume'),
      removeVolume: async () => ran.push('removeVolume'),
    },
    appNetwork: (app: string) => `paas-${app}`,
    log: silentLogger(),
  } as unknown as AddonUpgradeDeps;
  return { ran, service: new AddonUpgradeService(deps), out: new PassThrough() };
}
const never = new AbortController().signal;

describe('a major add-on upgrade stops writes for its dump', () => {
  test('writes are refused before the dump and stay refused on success (the old data files are retired)', async () => {
    const { ran, service, out } = setup(async () => {
      ran.push('backup');
      return { name: 'b1' };
    });
    const r = await service.upgrade(postgresType, 'db', 'pg:15', out, never);
    assert.equal(r.mode, 'major');
    assert.deepEqual(ran.slice(0, 2), ['freeze', 'backup']);
    assert.ok(!ran.includes('thaw'));
    // the apps' logins are made on the new server before the restore gives them their tables
    assert.deepEqual(
      ran.filter((s) => ['start', 'logins', 'restore'].includes(s)),
      ['start', 'logins', 'restore'],
    );
    assert.match(String(out.read()), /Writes refused until the upgrade ends/);
  });

  test('a failure after the freeze takes writes again on the old server', async () => {
    const { ran, service, out } = setup(async () => {
      throw new Error('disk full');
    });
    await assert.rejects(service.upgrade(postgresType, 'db', 'pg:15', out, never), /disk full/);
    assert.deepEqual(ran, ['freeze', 'thaw']);
    assert.match(String(out.read()), /Writes accepted again by pg:13/);
  });

  test('a freeze that fails stops the upgrade before anything changes', async () => {
    const { ran, service, out } = setup(async () => ({ name: 'b1' }), 1);
    await assert.rejects(
      service.upgrade(postgresType, 'db', 'pg:15', out, never),
      /cannot stop writes .*must be superuser; nothing was changed/,
    );
    assert.deepEqual(ran, ['freeze']);
  });

  test('every shipped type can stop and take writes', () => {
    for (const t of [postgresType, redisType]) {
      assert.ok(t.freezeWrites.length > 0 && t.thawWrites.length > 0, t.name);
      assert.notDeepEqual(t.freezeWrites, t.thawWrites);
    }
  });
});
