// AddonLinks through AddonService (link/unlink/detachApp/ensureLogins): per-app Postgres logins, the
// app's URL set through the real ConfigService (a rollout on the fake runtime when the app is live),
// the networks joined and left, and each refusal with nothing changed.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { postgresType } from '../../../src/addons/postgres-type.js';
import { redisType } from '../../../src/addons/redis-type.js';
import { addonSetup, liveApp, storedAddon } from '../fakes/addon-fakes.js';

const never = new AbortController().signal;
const PG = 'paas-postgres-db';

function linked(type = postgresType) {
  const s = addonSetup(type);
  storedAddon(s, type, 'db');
  s.state.apps.create('web');
  return s;
}

/** The login scripts run in the add-on's container (psql reading stdin), in order. */
const scripts = (s: ReturnType<typeof addonSetup>) =>
  s.containers.execs.filter((e) => e.argv === postgresType.appLogins!.run).map((e) => e.stdin ?? '');

describe('AddonLinks.link', () => {
  test('a Postgres link makes the app its own login and gives it a URL with that login, not the superuser', async () => {
    const s = linked();
    const r = await s.service.link(postgresType, 'db', 'web', undefined, s.out, never);
    assert.deepEqual(r, { variable: 'DATABASE_URL', rolledOut: false });
    const [link] = s.state.addons.links('postgres', 'db');
    assert.deepEqual([link!.app, link!.var, link!.login, link!.password!.length], ['web', 'DATABASE_URL', 'app_web', 64]);
    assert.deepEqual(s.config.all('web'), { DATABASE_URL: `postgres://app_web:${link!.password}@${PG}:5432/db` });
    const [grant] = scripts(s);
    assert.match(grant!, /CREATE ROLE "app_web"/);
    assert.ok(grant!.includes(`PASSWORD '${link!.password}'`));
    assert.deepEqual(s.networks.ensured, ['web']);
    assert.deepEqual(s.containers.calls, [`connect ${PG} paas-net-web`]);
    assert.equal(s.out.text, '-----> Linking postgres service db to web as DATABASE_URL (login app_web)\n');
  });

  test('a link to a live app rolls out a release with the variable on the fake runtime', async () => {
    const s = linked();
    s.state.apps.delete('web');
    await liveApp(s, 'web');
    const r = await s.service.link(postgresType, 'db', 'web', 'PRIMARY_DB', s.out, never);
    assert.deepEqual(r, { variable: 'PRIMARY_DB', rolledOut: true });
    assert.equal(s.state.releases.current('web')!.version, 2);
    assert.deepEqual(Object.keys(s.state.releases.current('web')!.config), ['PRIMARY_DB']);
    assert.deepEqual(s.runtime.calls, ['start web.web.1.v2', 'stop web.web.1.v1']);
  });

  test('a Redis link has no login: the app gets the service password in REDIS_URL', async () => {
    const s = linked(redisType);
    assert.deepEqual(await s.service.link(redisType, 'db', 'web', undefined, s.out, never), { variable: 'REDIS_URL', rolledOut: false });
    assert.deepEqual(s.config.all('web'), { REDIS_URL: 'redis://:pw0@paas-redis-db:6379' });
    assert.equal(s.state.addons.links('redis', 'db')[0]!.login, null);
    assert.deepEqual(s.containers.execs, []);
  });

  test('refusals: a bad alias, an unknown add-on or app, a second link, a stopped Postgres — nothing changed', async () => {
    const s = linked();
    await assert.rejects(s.service.link(postgresType, 'db', 'web', '1DB', s.out, never), {
      code: 'PAAS_ERR_ADDON_USAGE',
      message: "invalid alias '1DB': a variable name is letters, digits and '_', not starting with a digit",
    });
    await assert.rejects(s.service.link(postgresType, 'nope', 'web', undefined, s.out, never), { code: 'PAAS_ERR_ADDON_NOT_FOUND' });
    await assert.rejects(s.service.link(postgresType, 'db', 'ghost', undefined, s.out, never), {
      code: 'PAAS_ERR_ADDON_NOT_FOUND',
      message: "app 'ghost' does not exist",
    });
    s.containers.running(PG, { running: false, status: 'exited' });
    await assert.rejects(s.service.link(postgresType, 'db', 'web', undefined, s.out, never), { code: 'PAAS_ERR_ADDON_NOT_RUNNING' });
    assert.deepEqual([s.containers.calls, s.containers.execs, s.networks.ensured], [[], [], []]);
    assert.deepEqual(s.state.addons.links('postgres', 'db'), []);
    s.containers.running(PG);
    await s.service.link(postgresType, 'db', 'web', undefined, s.out, never);
    await assert.rejects(s.service.link(postgresType, 'db', 'web', 'OTHER_URL', s.out, never), {
      code: 'PAAS_ERR_ADDON_ALREADY_LINKED',
      message: "postgres service 'db' is already linked to 'web'",
    });
    assert.equal(s.state.addons.links('postgres', 'db').length, 1);
  });

  test('a variable already set on the app is refused with a free alias suggested, before the network or a login', async () => {
    const s = linked();
    s.state.config.replace('web', { DATABASE_URL: 'postgres://elsewhere', DB_URL: 'x' });
    await assert.rejects(s.service.link(postgresType, 'db', 'web', undefined, s.out, never), {
      code: 'PAAS_ERR_ADDON_VAR_TAKEN',
      message: "DATABASE_URL is already set on 'web'; link with --alias DB2_URL (or config:unset web DATABASE_URL first)",
    });
    assert.deepEqual([s.containers.calls, s.containers.execs], [[], []]);
    assert.deepEqual(s.config.all('web'), { DATABASE_URL: 'postgres://elsewhere', DB_URL: 'x' });
  });

  test('a login that cannot be made leaves the network again and stores no link', async () => {
    const s = linked();
    s.containers.script = ({ argv, stdin }) =>
      argv === postgresType.appLogins!.run && stdin?.includes('CREATE ROLE')
        ? { exitCode: 3, stderr: 'FATAL: out of memory\n' }
        : undefined;
    await assert.rejects(s.service.link(postgresType, 'db', 'web', undefined, s.out, never), {
      code: 'PAAS_ERR_ADDON_UNHEALTHY',
      message: `cannot create the login app_web of web in ${PG}: FATAL: out of memory`,
    });
    assert.match(scripts(s)[1]!, /ALTER ROLE "app_web" WITH NOLOGIN/);
    assert.deepEqual(s.containers.calls, [`connect ${PG} paas-net-web`, `disconnect ${PG} paas-net-web`]);
    assert.deepEqual(s.state.addons.links('postgres', 'db'), []);
    assert.deepEqual(s.config.all('web'), {});
  });

  test('a rollout that fails its health gate disables the new login and leaves the network', async () => {
    const s = linked();
    s.state.apps.delete('web');
    await liveApp(s, 'web');
    s.proxy.refuse = 'health check failed';
    await assert.rejects(s.service.link(postgresType, 'db', 'web', undefined, s.out, never), /health check failed/);
    assert.equal(scripts(s).length, 2);
    assert.match(scripts(s)[1]!, /NOLOGIN/);
    assert.deepEqual(s.containers.calls.at(-1), `disconnect ${PG} paas-net-web`);
    assert.deepEqual(s.state.addons.links('postgres', 'db'), []);
    assert.deepEqual(s.config.all('web'), {});
  });
});

describe('AddonLinks.unlink, detachApp and ensureLogins', () => {
  test('unlink unsets the variable before the service leaves the network, then disables the login', async () => {
    const s = linked();
    await s.service.link(postgresType, 'db', 'web', undefined, s.out, never);
    const configAtDisconnect: Record<string, string>[] = [];
    const disconnect = s.containers.disconnect.bind(s.containers);
    s.containers.disconnect = async (name, network) => {
      configAtDisconnect.push(s.config.all('web'));
      return disconnect(name, network);
    };
    s.out.text = '';
    assert.deepEqual(await s.service.unlink(postgresType, 'db', 'web', s.out, never), { variable: 'DATABASE_URL', rolledOut: false });
    assert.deepEqual(configAtDisconnect, [{}]);
    assert.deepEqual(s.state.addons.links('postgres', 'db'), []);
    assert.match(scripts(s).at(-1)!, /ALTER ROLE "app_web" WITH NOLOGIN PASSWORD NULL/);
    assert.equal(
      s.out.text,
      '-----> Unlinking postgres service db from web (DATABASE_URL)\n-----> Login app_web disabled; its data stays in db for a later link of web\n',
    );
  });

  test('a login that cannot be disabled is a warning: the link is gone all the same', async () => {
    const s = linked();
    await s.service.link(postgresType, 'db', 'web', undefined, s.out, never);
    s.containers.script = ({ stdin }) => (stdin?.includes('NOLOGIN') ? { exitCode: 2, stderr: 'connection refused' } : undefined);
    s.out.text = '';
    await s.service.unlink(postgresType, 'db', 'web', s.out, never);
    assert.equal(
      s.out.text.split('\n')[1],
      `-----> WARNING: the login app_web could not be disabled (cannot disable the login app_web of web in ${PG}: connection refused); the service has left web's network`,
    );
    assert.deepEqual(s.state.addons.links('postgres', 'db'), []);
  });

  test('unlink of an app not linked is refused and nothing changes', async () => {
    const s = linked();
    await assert.rejects(s.service.unlink(postgresType, 'db', 'web', s.out, never), {
      code: 'PAAS_ERR_ADDON_NOT_LINKED',
      message: "postgres service 'db' is not linked to 'web'",
    });
    assert.deepEqual(s.containers.calls, []);
  });

  test('detachApp drops the app’s Postgres login with its data and leaves every add-on’s network', async () => {
    const s = linked();
    storedAddon(s, redisType, 'cache');
    await s.service.link(postgresType, 'db', 'web', undefined, s.out, never);
    await s.service.link(redisType, 'cache', 'web', undefined, s.out, never);
    s.containers.calls.length = 0;
    await s.service.detachApp('web');
    assert.match(scripts(s).at(-1)!, /DROP OWNED BY "app_web" CASCADE[\s\S]*DROP ROLE IF EXISTS "app_web"/);
    assert.deepEqual(s.containers.calls, [`disconnect ${PG} paas-net-web`, 'disconnect paas-redis-cache paas-net-web']);
  });

  test('ensureLogins makes every stored link’s login again with its stored password', async () => {
    const s = linked();
    s.state.apps.create('api');
    s.state.addons.addLink('postgres', 'db', 'web', 'DATABASE_URL', 'app_web', 'a1');
    s.state.addons.addLink('postgres', 'db', 'api', 'DATABASE_URL', 'app_api', 'b2');
    s.state.apps.create('old');
    s.state.addons.addLink('postgres', 'db', 'old', 'OLD_URL');
    await s.service.ensureLogins(postgresType, s.state.addons.get('postgres', 'db')!);
    assert.deepEqual(
      scripts(s).map((x) => /PASSWORD '(\w+)'/.exec(x)?.[1]),
      ['b2', 'a1'],
    );
  });
});
