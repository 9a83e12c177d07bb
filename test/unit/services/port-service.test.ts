import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Captured } from '../fakes/deploy-fakes.js';
import { liveApp, never, portSetup, pushHoldsLock, settle } from '../fakes/app-services-fakes.js';

/** App `a` live at v1 (port 5000, image paas/a:v1), its image EXPOSing `exposed`. */
async function liveWith(exposed: number[]) {
  const s = portSetup();
  await liveApp(s, 'a');
  s.images.exposed.set('paas/a:v1', exposed);
  return s;
}

describe('PortService: report', () => {
  test('before the first deploy: the default, no image inspected', async () => {
    const s = portSetup();
    s.state.apps.create('a');
    assert.deepEqual(await s.ports.report('a'), {
      chosen: null,
      inUse: null,
      exposed: [],
      reason: 'the default (the image EXPOSEs no port)',
    });
    assert.deepEqual(s.images.inspected, []);
  });

  test("a live app: the live release's port, what its image EXPOSEs, and why", async () => {
    const s = await liveWith([5000]);
    assert.deepEqual(await s.ports.report('a'), { chosen: null, inUse: 5000, exposed: [5000], reason: 'the only port the image EXPOSEs' });
    s.images.exposed.set('paas/a:v1', [3000, 5000]);
    assert.deepEqual(await s.ports.report('a'), {
      chosen: null,
      inUse: 5000,
      exposed: [3000, 5000],
      reason: 'the default (the image EXPOSEs 3000, 5000; choose one with ports:set)',
    });
    s.settings.write('a', 'port', 3000);
    assert.equal((await s.ports.report('a')).reason, 'chosen with ports:set');
    s.images.exposed.delete('paas/a:v1');
    assert.deepEqual(await s.ports.report('a'), { chosen: 3000, inUse: 5000, exposed: [], reason: 'chosen with ports:set' });
    assert.deepEqual(s.images.inspected, ['paas/a:v1', 'paas/a:v1', 'paas/a:v1', 'paas/a:v1']);
  });
});

describe('PortService: set', () => {
  test('a new port on a live app makes a release routed to it and rolls it out', async () => {
    const s = await liveWith([3000, 5000]);
    const out = new Captured();
    const r = await s.ports.set('a', '3000', out, never);
    assert.equal(r.port, 3000);
    assert.deepEqual(
      { version: r.release!.version, port: r.release!.port, image: r.release!.image, description: r.release!.description },
      { version: 2, port: 3000, image: 'paas/a:v1', description: 'Route to port 3000' },
    );
    assert.equal(s.settings.get('a', 'port'), 3000);
    assert.equal(s.state.releases.current('a')!.version, 2);
    assert.deepEqual(s.runtime.running('a'), ['a.web.1.v2']);
    assert.equal(s.runtime.specs.at(-1)!.port, 3000);
    const web = s.runtime.containers.values().next().value!;
    assert.deepEqual(s.proxy.deploys.at(-1)!.spec.targets, [`${web.ip}:3000`]);
    assert.match(out.text, /-----> Waiting for 1 web container\(s\) to accept connections on port 3000\n/);
  });

  test('a port the image does not EXPOSE, or no port at all, is refused and nothing changes', async () => {
    const s = await liveWith([3000, 5000]);
    await assert.rejects(s.ports.set('a', '4000', new Captured(), never), {
      code: 'PAAS_ERR_PORT_NOT_EXPOSED',
      message: 'the image of a EXPOSEs 3000, 5000, not 4000; nothing was changed',
      exitCode: 2,
    });
    for (const text of ['0', '65536', 'http', '80.5']) {
      // set() throws this one synchronously (it is not an async function): the wrapper takes either
      await assert.rejects(async () => s.ports.set('a', text, new Captured(), never), {
        code: 'PAAS_ERR_PORT_VALUE',
        message: `'${text}' is not a port (1-65535) or 'default'; nothing was changed`,
      });
    }
    assert.equal(s.settings.get('a', 'port'), null);
    assert.equal(s.state.releases.list('a', 10).length, 1);
    assert.deepEqual(s.runtime.calls, []);
  });

  test('an image that EXPOSEs no port may be routed to any port', async () => {
    const s = await liveWith([]);
    const r = await s.ports.set('a', '8080', new Captured(), never);
    assert.equal(r.release!.port, 8080);
    assert.equal(s.runtime.specs.at(-1)!.port, 8080);
  });

  test('the port already in use is stored without a release', async () => {
    const s = await liveWith([3000, 5000]);
    assert.deepEqual(await s.ports.set('a', '5000', new Captured(), never), { port: 5000, release: null });
    assert.equal(s.settings.get('a', 'port'), 5000);
    assert.deepEqual(s.runtime.calls, []);
  });

  test('default goes back to the image’s single EXPOSEd port, else 5000', async () => {
    const s = await liveWith([3000, 5000]);
    await s.ports.set('a', '3000', new Captured(), never);
    const back = await s.ports.set('a', 'default', new Captured(), never);
    assert.equal(back.port, 5000);
    assert.equal(back.release!.version, 3);
    assert.equal(s.settings.get('a', 'port'), null);
    const one = await liveWith([8000]);
    assert.equal((await one.ports.set('a', 'default', new Captured(), never)).release!.port, 8000);
  });

  test('before the first deploy, or while stopped, the port is stored for the next start', async () => {
    const s = portSetup();
    s.state.apps.create('b');
    assert.deepEqual(await s.ports.set('b', '8080', new Captured(), never), { port: 8080, release: null });
    assert.equal(s.settings.get('b', 'port'), 8080);
    await liveApp(s, 'a');
    s.images.exposed.set('paas/a:v1', [3000, 5000]);
    s.settings.write('a', 'stopped', { web: 1 });
    assert.deepEqual(await s.ports.set('a', '3000', new Captured(), never), { port: 3000, release: null });
    assert.equal(s.settings.get('a', 'port'), 3000);
    assert.equal(s.state.releases.current('a')!.version, 1);
  });

  test('a change waits for the app lock and says who holds it', async () => {
    const s = await liveWith([3000, 5000]);
    const release = await pushHoldsLock(s.locks, 'a');
    const out = new Captured();
    const setting = s.ports.set('a', '3000', out, never);
    await settle();
    assert.equal(out.text, '-----> Waiting for a git push of a to finish\n');
    assert.equal(s.settings.get('a', 'port'), null);
    await release();
    assert.equal((await setting).release!.version, 2);
  });

  test('a rollout that fails the health gate keeps the live release and the port choice it had', async () => {
    const s = await liveWith([3000, 5000]);
    s.settings.write('a', 'port', 5000);
    s.proxy.refuse = 'unhealthy';
    await assert.rejects(s.ports.set('a', '3000', new Captured(), never), { code: 'PAAS_ERR_DEPLOY_UNHEALTHY' });
    assert.equal(s.settings.get('a', 'port'), 5000, 'ports:report still says what is in use');
    assert.equal(s.state.releases.current('a')!.version, 1);
    assert.equal(s.state.releases.list('a', 10).find((r) => r.version === 2)!.status, 'failed');
    assert.deepEqual(s.runtime.running('a'), ['a.web.1.v1']);
  });
});
