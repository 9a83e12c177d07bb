import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  addonContainerName,
  addonVolumeName,
  backupStamp,
  databaseName,
  generatePassword,
  suggestedAlias,
} from '../../../src/addons/addon-naming.js';
import { withFile } from '../../../src/addons/addon-type.js';
import { ADDON_TYPES, addonType } from '../../../src/addons/addon-types.js';
import { parseVersion } from '../../../src/addons/addon-upgrade-service.js';

test('every add-on type is complete data: image env, port, volume, URL variable, commands', () => {
  assert.deepEqual(
    ADDON_TYPES.map((t) => [t.name, t.imageEnv, t.urlVar, t.port]),
    [
      ['postgres', 'PAAS_IMAGE_POSTGRES', 'DATABASE_URL', 5432],
      ['redis', 'PAAS_IMAGE_REDIS', 'REDIS_URL', 6379],
    ],
  );
  for (const t of ADDON_TYPES) {
    for (const argv of [t.probe, t.version, t.connect, t.dump, t.verify]) assert.ok(argv.length > 0, t.name);
    assert.ok(t.verify.includes('{file}'), `${t.name} verify reads the staged file`);
  }
  assert.equal(addonType('mysql'), undefined);
});

test('URLs carry the generated credentials and the container name as host', () => {
  const creds = { user: 'postgres', password: 'p@ss/word', database: 'my_db' };
  assert.equal(
    addonType('postgres')!.url(creds, 'paas-postgres-my-db'),
    'postgres://postgres:p%40ss%2Fword@paas-postgres-my-db:5432/my_db',
  );
  assert.equal(addonType('redis')!.url(creds, 'paas-redis-c'), 'redis://:p%40ss%2Fword@paas-redis-c:6379');
  // redis takes its password on the command line (the official image's way), never in the URL unescaped
  assert.deepEqual(addonType('redis')!.command(creds)!.slice(0, 3), ['redis-server', '--requirepass', 'p@ss/word']);
});

test('names: containers, volumes by generation, database names, passwords, backup stamps', () => {
  assert.equal(addonContainerName('postgres', 'my-db'), 'paas-postgres-my-db');
  assert.equal(addonVolumeName('redis', 'c'), 'paas-redis-c-data');
  assert.equal(addonVolumeName('redis', 'c', 3), 'paas-redis-c-data-3');
  assert.equal(databaseName('my-db-2'), 'my_db_2');
  const a = generatePassword();
  assert.match(a, /^[0-9a-f]{64}$/);
  assert.notEqual(a, generatePassword());
  assert.equal(backupStamp(new Date('2026-11-30T03:00:05.123Z')), '2026-11-30T03-00-05-123Z');
  assert.deepEqual(withFile(['sh', '-c', 'x "$1"', 'sh', '{file}'], '/data/s'), ['sh', '-c', 'x "$1"', 'sh', '/data/s']);
});

test('the alias suggested when a variable is taken is free', () => {
  assert.equal(
    suggestedAlias('my-db', () => false),
    'MY_DB_URL',
  );
  const taken = new Set(['MY_DB_URL', 'MY_DB2_URL']);
  assert.equal(
    suggestedAlias('my-db', (v) => taken.has(v)),
    'MY_DB3_URL',
  );
});

test('server versions are read from the servers own banners', () => {
  assert.deepEqual(parseVersion('postgres (PostgreSQL) 15.14 (Debian 15.14-0+deb12u1)'), { full: '15.14', major: '15' });
  assert.deepEqual(parseVersion('Redis server v=7.0.15 sha=00000000:0 malloc=jemalloc-5.3.0 bits=64'), { full: '7.0.15', major: '7' });
  assert.equal(parseVersion('no version here'), null);
});

test('Postgres per-app logins: named after the app, confined, and never spliced from unsafe text', () => {
  const l = addonType('postgres')!.appLogins!;
  assert.equal(l.name('shop'), 'app_shop');
  assert.equal(l.name('my-shop-2'), 'app_my_shop_2');
  const grant = l.grant('app_shop', generatePassword());
  for (const attr of ['NOSUPERUSER', 'NOCREATEDB', 'NOCREATEROLE', 'NOREPLICATION', 'NOBYPASSRLS'])
    assert.match(grant, new RegExp(`ALTER ROLE "app_shop" WITH LOGIN .*${attr}`));
  assert.match(grant, /REVOKE ALL ON SCHEMA public FROM PUBLIC/);
  assert.match(grant, /ALTER ROLE "app_shop" SET search_path = "app_shop"/);
  assert.match(l.disable('app_shop'), /NOLOGIN PASSWORD NULL/);
  assert.match(l.drop('app_shop'), /DROP OWNED BY "app_shop" CASCADE/);
  assert.throws(() => l.grant('app_shop', "x'; ALTER ROLE app_shop SUPERUSER; --"));
  assert.throws(() => l.grant('app"x', 'abc'));
  assert.equal(addonType('redis')!.appLogins, null, 'Redis: one shared password (no per-user keyspaces)');
});
