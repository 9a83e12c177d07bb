// AddonService (postgres:/redis: create, info, list, destroy, restart, logs, connect) on a temp-dir
// SQLite State and in-memory add-on containers: what is stored, what the containers were asked,
// and each refusal's code and message with nothing changed.
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { describe, test } from 'node:test';
import { postgresType } from '../../../src/addons/postgres-type.js';
import { redisType } from '../../../src/addons/redis-type.js';
import { addonSetup, storedAddon } from '../fakes/addon-fakes.js';

const never = new AbortController().signal;
const GiB = 1024 ** 3;

describe('AddonService.create', () => {
  test('stores the add-on, starts its container with generated credentials on no network and waits for its probe', async () => {
    const s = addonSetup(postgresType);
    const info = await s.service.create(postgresType, 'my-db', undefined, s.out, never);
    const row = s.state.addons.get('postgres', 'my-db')!;
    assert.deepEqual(
      { ...row, password: row.password.length, createdAt: typeof row.createdAt },
      {
        type: 'postgres',
        name: 'my-db',
        image: 'postgres:test',
        container: 'paas-postgres-my-db',
        volume: 'paas-postgres-my-db-data',
        user: 'postgres',
        password: 64,
        database: 'my_db',
        createdAt: 'string',
        schedule: null,
        keep: null,
        target: null,
        lastBackup: null,
        oldVolumes: [],
        memoryBytes: null,
      },
    );
    assert.deepEqual(s.containers.calls, [
      'ensureImage postgres:test',
      'createVolume paas-postgres-my-db-data',
      'start paas-postgres-my-db',
    ]);
    const spec = s.containers.specs[0]!;
    assert.deepEqual(spec.env, postgresType.env({ user: 'postgres', password: row.password, database: 'my_db' }));
    assert.deepEqual([spec.networks, spec.memoryBytes, spec.volume, spec.volumePath], [[], GiB, row.volume, postgresType.volumePath]);
    assert.deepEqual(s.containers.ran('paas-postgres-my-db')[0], postgresType.probe.join(' '));
    assert.equal(s.out.text, '-----> Creating postgres service my-db (postgres:test)\n');
    assert.deepEqual([info.name, info.status, info.links, info.host, info.port], ['my-db', 'running', [], 'paas-postgres-my-db', 5432]);
  });

  test('--memory sets the container limit (none: 0) and an image given is used', async () => {
    const s = addonSetup(redisType);
    await s.service.create(redisType, 'cache', 'redis:7-alpine', s.out, never, '256m');
    await s.service.create(redisType, 'big', undefined, s.out, never, 'none');
    assert.equal(s.state.addons.get('redis', 'cache')!.memoryBytes, 256 * 1024 ** 2);
    assert.equal(s.state.addons.get('redis', 'cache')!.image, 'redis:7-alpine');
    assert.equal(s.state.addons.get('redis', 'big')!.memoryBytes, 0);
    assert.deepEqual(
      s.containers.specs.map((x) => x.memoryBytes),
      [256 * 1024 ** 2, 0],
    );
    // redis gets its password on its command line, not in a URL
    assert.deepEqual(s.containers.specs[0]!.command!.slice(0, 3), [
      'redis-server',
      '--requirepass',
      s.state.addons.get('redis', 'cache')!.password,
    ]);
  });

  test('bad names and images are refused before anything is touched', async () => {
    const s = addonSetup(postgresType);
    for (const name of ['MyDb', '1db', 'db_1', '', 'a'.repeat(49)])
      await assert.rejects(s.service.create(postgresType, name, undefined, s.out, never), {
        code: 'PAAS_ERR_ADDON_NAME',
        message: `invalid postgres service name '${name}': use 1-48 characters, lowercase letters, digits and '-', starting with a letter`,
      });
    await assert.rejects(s.service.create(postgresType, 'db', 'pg; rm -rf /', s.out, never), {
      code: 'PAAS_ERR_ADDON_USAGE',
      message: "invalid image 'pg; rm -rf /'",
    });
    await assert.rejects(s.service.create(postgresType, 'db', undefined, s.out, never, 'lots'), {
      code: 'PAAS_ERR_RESOURCE_USAGE',
      message: "memory must be a number with a unit k, m or g (e.g. 512m, 1.5g), got 'lots'; nothing was changed",
    });
    assert.deepEqual(s.containers.calls, []);
    assert.deepEqual(s.state.addons.list(), []);
  });

  test('an existing add-on, or a volume left by an earlier one, is refused and nothing is created', async () => {
    const s = addonSetup(postgresType);
    storedAddon(s, postgresType, 'db');
    await assert.rejects(s.service.create(postgresType, 'db', undefined, s.out, never), {
      code: 'PAAS_ERR_ADDON_EXISTS',
      message: "postgres service 'db' already exists",
    });
    s.containers.volumes.add('paas-postgres-old-data');
    await assert.rejects(s.service.create(postgresType, 'old', undefined, s.out, never), {
      code: 'PAAS_ERR_ADDON_EXISTS',
      message:
        'the volume paas-postgres-old-data already exists (left by an earlier postgres service old?); remove it with docker volume rm or pick another name',
    });
    assert.deepEqual(s.containers.calls, []);
    assert.equal(s.state.addons.get('postgres', 'old'), undefined);
  });

  test('a container that exits before it is ready is removed with its volume, and its last log lines are shown', async () => {
    const s = addonSetup(postgresType);
    s.containers.startedState = { running: false, status: 'exited' };
    s.containers.logLines = ['FATAL: data directory has wrong ownership'];
    await assert.rejects(s.service.create(postgresType, 'db', undefined, s.out, never), {
      code: 'PAAS_ERR_ADDON_UNHEALTHY',
      message: 'paas-postgres-db did not become ready (exited); last log lines:\n  FATAL: data directory has wrong ownership',
    });
    assert.deepEqual(s.containers.calls.slice(-3), [
      'start paas-postgres-db',
      'remove paas-postgres-db',
      'removeVolume paas-postgres-db-data',
    ]);
    assert.equal(s.state.addons.get('postgres', 'db'), undefined);
    assert.deepEqual(s.containers.volumes, new Set());
  });

  test('a container that cannot start leaves no volume and no row', async () => {
    const s = addonSetup(postgresType);
    s.containers.failStart = new Error('no such image');
    await assert.rejects(s.service.create(postgresType, 'db', undefined, s.out, never), /no such image/);
    assert.deepEqual(s.containers.calls.slice(-2), ['remove paas-postgres-db', 'removeVolume paas-postgres-db-data']);
    assert.equal(s.state.addons.get('postgres', 'db'), undefined);
  });
});

describe('AddonService lookups', () => {
  test('an unknown type or add-on is refused naming the command that lists them', () => {
    const s = addonSetup(postgresType);
    assert.throws(() => s.service.type('mysql'), { code: 'PAAS_ERR_ADDON_USAGE', message: "unknown add-on type 'mysql'" });
    assert.equal(s.service.type('redis'), redisType);
    assert.throws(() => s.service.get(postgresType, 'nope'), {
      code: 'PAAS_ERR_ADDON_NOT_FOUND',
      message: "postgres service 'nope' does not exist (see postgres:list)",
    });
  });

  test('info reads the version and volume size from the running container and hides link passwords', async () => {
    const s = addonSetup(postgresType);
    storedAddon(s, postgresType, 'db');
    s.state.apps.create('web');
    s.state.apps.create('old');
    s.state.addons.addLink('postgres', 'db', 'web', 'DATABASE_URL', 'app_web', 'secret');
    s.state.addons.addLink('postgres', 'db', 'old', 'DB_URL');
    s.state.addons.setSchedule('postgres', 'db', '0 3 * * *', 7);
    s.containers.script = ({ argv }) => {
      if (argv === postgresType.version) return { output: 'postgres (PostgreSQL) 17.5\nextra\n' };
      if (argv[0] === 'du') return { output: '40960\t/var/lib/postgresql/data\n' };
      return undefined;
    };
    const info = await s.service.info(postgresType, 'db');
    assert.deepEqual([info.version, info.size, info.memory, info.hardened], ['postgres (PostgreSQL) 17.5', 40960, GiB, true]);
    assert.deepEqual(
      info.linkDetails.map(({ createdAt: _, ...l }) => l),
      [
        { app: 'old', var: 'DB_URL', login: 'postgres', superuser: true },
        { app: 'web', var: 'DATABASE_URL', login: 'app_web', superuser: false },
      ],
    );
    assert.ok(!JSON.stringify(info).includes('secret'));
    assert.deepEqual(info.schedule, { cron: '0 3 * * *', keep: 7 });
    assert.deepEqual(info.links, ['old', 'web']);
  });

  test('info and list of a stopped or missing container run nothing in it', async () => {
    const s = addonSetup(redisType);
    storedAddon(s, redisType, 'a');
    storedAddon(s, redisType, 'b');
    s.containers.running('paas-redis-a', { running: false, status: 'exited', memoryBytes: 0, hardened: false });
    s.containers.states.delete('paas-redis-b');
    const a = await s.service.info(redisType, 'a');
    assert.deepEqual([a.status, a.version, a.size, a.memory, a.hardened], ['exited', null, null, 0, false]);
    const b = await s.service.info(redisType, 'b');
    assert.deepEqual([b.status, b.memory, b.hardened], ['missing', null, null]);
    assert.deepEqual(s.containers.execs, []);
    assert.deepEqual(
      (await s.service.list(redisType)).map((x) => [x.name, x.status]),
      [
        ['a', 'exited'],
        ['b', 'missing'],
      ],
    );
  });

  test('running refuses a stopped add-on with the command that restarts it', async () => {
    const s = addonSetup(postgresType);
    storedAddon(s, postgresType, 'db');
    s.containers.running('paas-postgres-db', { running: false, status: 'exited' });
    await assert.rejects(s.service.running(postgresType, 'db'), {
      code: 'PAAS_ERR_ADDON_NOT_RUNNING',
      message: "postgres service 'db' is not running (exited); try postgres:restart db",
    });
    s.containers.states.delete('paas-postgres-db');
    await assert.rejects(s.service.running(postgresType, 'db'), {
      message: "postgres service 'db' is not running (no container); try postgres:restart db",
    });
  });
});

describe('AddonService.destroy', () => {
  test('a linked add-on is refused naming the unlink command, and nothing is removed', async () => {
    const s = addonSetup(postgresType);
    storedAddon(s, postgresType, 'db');
    s.state.apps.create('web');
    s.state.addons.addLink('postgres', 'db', 'web', 'DATABASE_URL');
    await assert.rejects(s.service.destroy(postgresType, 'db', { force: true, name: undefined }, s.out, never), {
      code: 'PAAS_ERR_ADDON_LINKED',
      message: "postgres service 'db' is linked to web; unlink first (postgres:unlink db web)",
    });
    assert.deepEqual(s.containers.calls, []);
    assert.ok(s.state.addons.get('postgres', 'db'));
  });

  test('without --force the name must be repeated exactly', async () => {
    const s = addonSetup(postgresType);
    storedAddon(s, postgresType, 'db');
    await assert.rejects(s.service.destroy(postgresType, 'db', { force: false, name: undefined }, s.out, never), {
      code: 'PAAS_ERR_ADDON_CONFIRM',
      message: "this destroys postgres service db and its data (backups are kept); confirm with --force or 'postgres:destroy db db'",
    });
    await assert.rejects(s.service.destroy(postgresType, 'db', { force: false, name: 'dbx' }, s.out, never), {
      code: 'PAAS_ERR_ADDON_CONFIRM',
      message: "confirmation 'dbx' does not match 'db'; nothing was destroyed",
    });
    assert.deepEqual(s.containers.calls, []);
    await s.service.destroy(postgresType, 'db', { force: false, name: 'db' }, s.out, never);
    assert.equal(s.state.addons.get('postgres', 'db'), undefined);
  });

  test('removes the container, its volume and the volumes an upgrade kept, then the row', async () => {
    const s = addonSetup(postgresType);
    storedAddon(s, postgresType, 'db');
    s.state.addons.setImage('postgres', 'db', 'postgres:18', 'paas-postgres-db-data-2', ['paas-postgres-db-data']);
    await s.service.destroy(postgresType, 'db', { force: true, name: undefined }, s.out, never);
    assert.deepEqual(s.containers.calls, [
      'remove paas-postgres-db',
      'removeVolume paas-postgres-db-data-2',
      'removeVolume paas-postgres-db-data',
    ]);
    assert.equal(s.state.addons.get('postgres', 'db'), undefined);
  });
});

describe('AddonService.restart', () => {
  test('a hardened container with the stored memory limit is restarted in place and probed', async () => {
    const s = addonSetup(postgresType);
    storedAddon(s, postgresType, 'db');
    await s.service.restart(postgresType, 'db', s.out, never);
    assert.deepEqual(s.containers.calls, ['restart paas-postgres-db']);
    assert.deepEqual(s.containers.ran('paas-postgres-db'), [postgresType.probe.join(' ')]);
    assert.equal(s.out.text, '');
  });

  test('a new --memory is stored and the container recreated on the same volume and its linked apps’ networks', async () => {
    const s = addonSetup(postgresType);
    storedAddon(s, postgresType, 'db');
    s.state.apps.create('web');
    s.state.addons.addLink('postgres', 'db', 'web', 'DATABASE_URL');
    await s.service.restart(postgresType, 'db', s.out, never, '512m');
    assert.equal(s.state.addons.get('postgres', 'db')!.memoryBytes, 512 * 1024 ** 2);
    assert.deepEqual(s.containers.calls, ['stop paas-postgres-db', 'remove paas-postgres-db', 'start paas-postgres-db']);
    const spec = s.containers.specs[0]!;
    assert.deepEqual([spec.volume, spec.networks, spec.memoryBytes], ['paas-postgres-db-data', ['paas-net-web'], 512 * 1024 ** 2]);
    assert.equal(s.out.text, '-----> Recreating paas-postgres-db with the add-on hardening and memory limit (same volume)\n');
  });

  test('a container made before the hardening is recreated; an unknown add-on is refused before anything', async () => {
    const s = addonSetup(redisType);
    storedAddon(s, redisType, 'cache');
    s.containers.running('paas-redis-cache', { hardened: false });
    await s.service.restart(redisType, 'cache', s.out, never);
    assert.deepEqual(s.containers.calls, ['stop paas-redis-cache', 'remove paas-redis-cache', 'start paas-redis-cache']);
    await assert.rejects(s.service.restart(redisType, 'nope', s.out, never, '1g'), { code: 'PAAS_ERR_ADDON_NOT_FOUND' });
  });
});

describe('AddonService.logs and connect', () => {
  test('logs writes the container’s lines and closes its stream; a missing container is refused', async () => {
    const s = addonSetup(redisType);
    storedAddon(s, redisType, 'cache');
    s.containers.logLines = ['Ready to accept connections', 'DB saved on disk'];
    await s.service.logs(redisType, 'cache', { follow: false, lines: 10 }, s.out, never);
    assert.equal(s.out.text, 'Ready to accept connections\nDB saved on disk\n');
    assert.deepEqual(s.containers.calls, ['logs closed']);
    s.containers.states.delete('paas-redis-cache');
    await assert.rejects(s.service.logs(redisType, 'cache', { follow: false, lines: 10 }, s.out, never), {
      code: 'PAAS_ERR_ADDON_NOT_RUNNING',
      message: "redis service 'cache' has no container (paas-redis-cache)",
    });
  });

  test('connect runs the type’s client with the SSH streams and returns its exit code', async () => {
    const s = addonSetup(postgresType);
    storedAddon(s, postgresType, 'db');
    let tty: unknown = 'unset';
    s.containers.script = ({ argv }, io) => {
      if (argv !== postgresType.connect) return undefined;
      tty = io.tty;
      return { exitCode: 3 };
    };
    const stdin = new PassThrough();
    stdin.end('select 1;\n');
    const io = { stdin, stdout: new PassThrough(), stderr: new PassThrough(), signal: never, pty: null };
    assert.equal(await s.service.connect(postgresType, 'db', io as never), 3);
    assert.equal(tty, null);
    assert.deepEqual(s.containers.execs.at(-1)!.stdin, 'select 1;\n');
  });
});
