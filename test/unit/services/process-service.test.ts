import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ProcessService } from '../../../src/services/process-service.js';
import { Captured } from '../fakes/deploy-fakes.js';
import { ADMIN, developer, FakeStats, holdLock, never, liveApp, settle } from '../fakes/ops-services-fakes.js';
import { deploySetup } from '../fakes/services-setup.js';

function services() {
  const s = deploySetup();
  const stats = new FakeStats();
  const processes = new ProcessService({
    formation: s.state.formation,
    releases: s.state.releases,
    settings: s.settings,
    activator: s.releases,
    rollout: s.rollout,
    runtime: { list: (f) => s.runtime.list(f), stats: (id) => stats.stats(id) },
    locks: s.locks,
  });
  return { ...s, stats, processes };
}

/** The container ids the runtime runs for `app`. */
const ids = (s: ReturnType<typeof services>, app: string) =>
  [...s.runtime.containers.values()].filter((c) => c.app === app).map((c) => `${c.id} ${c.name}`);

describe('ProcessService.restart', () => {
  test('replaces every container of the live release with fresh ones, health-gated, and returns that release', async () => {
    const s = services();
    await liveApp(s, 'a', { web: 2 });
    const out = new Captured();
    const r = await s.processes.restart('a', out, never);
    assert.equal(r.version, 1);
    assert.deepEqual(ids(s, 'a'), ['c3 a.web.1.v1', 'c4 a.web.2.v1']);
    assert.deepEqual(s.runtime.calls, ['start a.web.1.v1', 'start a.web.2.v1', 'stop a.web.1.v1', 'stop a.web.2.v1']);
    assert.deepEqual(s.proxy.deploys.at(-1)!.spec.targets, ['10.0.0.3:5000', '10.0.0.4:5000']);
    assert.match(out.text, /^-----> Restarting a v1\n/);
    assert.equal(s.state.releases.list('a').length, 1, 'a restart makes no release');
  });

  test('a pending release (config:set --no-restart) is the one started, and becomes live with the current formation', async () => {
    const s = services();
    await liveApp(s, 'a');
    s.state.formation.replace('a', { web: 2 });
    s.state.releases.create({ ...pendingOf(s, 'a'), config: { K: '1' }, description: 'Set K' });
    const out = new Captured();
    const r = await s.processes.restart('a', out, never);
    assert.equal(r.version, 2);
    assert.deepEqual(r.formation, { web: 2 });
    assert.deepEqual(
      s.state.releases.list('a').map((x) => `v${x.version} ${x.status}`),
      ['v2 live', 'v1 superseded'],
    );
    assert.deepEqual(s.runtime.running('a'), ['a.web.1.v2', 'a.web.2.v2']);
    assert.deepEqual(s.runtime.specs.at(-1)!.env, { K: '1' });
    assert.match(out.text, /^-----> Restarting a with v2 \(Set K\)\n/);
  });

  test('a pending release that fails the health gate goes back to pending; the live one keeps serving', async () => {
    const s = services();
    await liveApp(s, 'a');
    s.state.releases.create(pendingOf(s, 'a'));
    s.proxy.refuse = 'unhealthy';
    await assert.rejects(s.processes.restart('a', new Captured(), never), { code: 'PAAS_ERR_DEPLOY_UNHEALTHY' });
    assert.deepEqual(
      s.state.releases.list('a').map((x) => `v${x.version} ${x.status}`),
      ['v2 pending', 'v1 live'],
    );
    assert.deepEqual(ids(s, 'a'), ['c1 a.web.1.v1']);
  });

  test('refused without a live release, and while the app is stopped, starting nothing', async () => {
    const s = services();
    s.state.apps.create('new');
    await assert.rejects(s.processes.restart('new', new Captured(), never), {
      code: 'PAAS_ERR_DEPLOY_NO_RELEASE',
      message: "app 'new' has no live release yet: push it first",
    });
    await liveApp(s, 'a');
    await s.processes.stop('a', new Captured(), never);
    s.runtime.calls.length = 0;
    await assert.rejects(s.processes.restart('a', new Captured(), never), {
      code: 'PAAS_ERR_OPS_STOPPED',
      message: "app 'a' is stopped: start it with ps:start a",
    });
    assert.deepEqual(s.runtime.calls, []);
  });

  test('waits for the app lock and says who holds it', async () => {
    const s = services();
    await liveApp(s, 'a');
    const release = holdLock(s.locks, 'a', 'a git push');
    const out = new Captured();
    const pending = s.processes.restart('a', out, never);
    await settle(1);
    assert.equal(out.text, '-----> Waiting for a git push of a to finish\n');
    assert.deepEqual(s.runtime.calls, []);
    await release();
    await pending;
    assert.deepEqual(s.runtime.calls, ['start a.web.1.v1', 'stop a.web.1.v1']);
  });
});

/** A release row like `config:set --no-restart` leaves: pending, with the live image. */
function pendingOf(s: ReturnType<typeof services>, app: string) {
  const live = s.state.releases.current(app)!;
  return {
    app,
    image: live.image,
    commitSha: live.commitSha,
    description: 'Set K',
    config: {},
    formation: live.formation,
    status: 'pending' as const,
    builder: live.builder,
    processes: live.processes,
    port: live.port,
  };
}

describe('ProcessService.stop and start', () => {
  test('stop saves the formation, zeroes it, stops every container and takes the app out of the proxy', async () => {
    const s = services();
    await liveApp(s, 'a', { web: 2, worker: 1 });
    const r = await s.processes.stop('a', new Captured(), never);
    assert.deepEqual(r, { already: false, stopped: 3 });
    assert.deepEqual(s.settings.get('a', 'stopped'), { web: 2, worker: 1 });
    assert.deepEqual(s.state.formation.all('a'), { web: 0, worker: 0 });
    assert.deepEqual(s.runtime.running('a'), []);
    assert.deepEqual(s.proxy.removed, ['a']);
    assert.equal(s.processes.isStopped('a'), true);
    assert.deepEqual(await s.processes.stop('a', new Captured(), never), { already: true, stopped: 0 });
    assert.deepEqual(s.settings.get('a', 'stopped'), { web: 2, worker: 1 }, 'a second stop keeps the first saved formation');
  });

  test('stop leaves one-off containers (paas run) running and does not count them', async () => {
    const s = services();
    await liveApp(s, 'a');
    const run = await s.runtime.start({ ...s.runtime.specs[0]!, process: 'run', replica: 0 });
    s.runtime.containers.set(run.id, { ...run, oneOff: true });
    const r = await s.processes.stop('a', new Captured(), never);
    assert.deepEqual(r, { already: false, stopped: 1 });
    assert.deepEqual(s.runtime.running('a'), ['a.run.0.v1']);
  });

  test('stop before the first deploy stops what runs without touching the proxy', async () => {
    const s = services();
    s.state.apps.create('b');
    s.state.formation.replace('b', { web: 1 });
    await s.runtime.start({ app: 'b', process: 'web', replica: 1, release: 0, image: 'x:1', env: {}, port: 5000 });
    assert.deepEqual(await s.processes.stop('b', new Captured(), never), { already: false, stopped: 1 });
    assert.deepEqual(s.runtime.running('b'), []);
    assert.deepEqual(s.proxy.removed, []);
    assert.deepEqual(s.settings.get('b', 'stopped'), { web: 1 });
  });

  test('start restores the saved formation health-gated and clears the stopped mark', async () => {
    const s = services();
    await liveApp(s, 'a', { web: 2 });
    await s.processes.stop('a', new Captured(), never);
    const out = new Captured();
    assert.deepEqual(await s.processes.start('a', out, never), { web: 2 });
    assert.deepEqual(s.runtime.running('a'), ['a.web.1.v1', 'a.web.2.v1']);
    assert.deepEqual(s.state.formation.all('a'), { web: 2 });
    assert.equal(s.settings.get('a', 'stopped'), null);
    assert.equal(s.proxy.deploys.at(-1)!.spec.targets.length, 2);
    assert.match(out.text, /^-----> Starting a: web=2\n/);
  });

  test('start of a running app starts the replicas that are missing', async () => {
    const s = services();
    await liveApp(s, 'a', { web: 2 });
    const first = [...s.runtime.containers.values()][0]!;
    await s.runtime.stop(first.id);
    s.runtime.calls.length = 0;
    assert.deepEqual(await s.processes.start('a', new Captured(), never), { web: 2 });
    assert.deepEqual(s.runtime.calls, [`start ${first.name}`]);
  });

  test('a start that fails the health gate leaves the app stopped with its saved formation', async () => {
    const s = services();
    await liveApp(s, 'a', { web: 2 });
    await s.processes.stop('a', new Captured(), never);
    s.proxy.refuse = 'unhealthy';
    await assert.rejects(s.processes.start('a', new Captured(), never), { code: 'PAAS_ERR_DEPLOY_UNHEALTHY' });
    assert.deepEqual(s.state.formation.all('a'), { web: 0 });
    assert.deepEqual(s.settings.get('a', 'stopped'), { web: 2 });
    assert.deepEqual(s.runtime.running('a'), []);
  });

  test('start without a live release is refused', async () => {
    const s = services();
    s.state.apps.create('b');
    await assert.rejects(s.processes.start('b', new Captured(), never), { code: 'PAAS_ERR_DEPLOY_NO_RELEASE' });
    assert.deepEqual(s.runtime.calls, []);
  });
});

describe('ProcessService.status', () => {
  test('reports each container sorted by process and replica, with stats of the running ones', async () => {
    const s = services();
    await liveApp(s, 'a', { worker: 1, web: 2 });
    const cs = [...s.runtime.containers.values()];
    const started = new Date(Date.now() - 90_000).toISOString();
    for (const c of cs) s.runtime.containers.set(c.id, { ...c, startedAt: started, restartCount: c.replica });
    const web2 = cs.find((c) => c.name === 'a.web.2.v1')!;
    s.runtime.containers.set(web2.id, { ...web2, state: 'exited', restartCount: 4 });
    s.stats.samples.set(cs.find((c) => c.name === 'a.web.1.v1')!.id, { cpuPercent: 12.5, memoryBytes: 1000, memoryLimitBytes: 4000 });
    s.settings.write('a', 'formation.appjson', ['worker']);

    const r = await s.processes.status('a');
    assert.deepEqual(
      { ...r, containers: [] },
      { release: 1, stopped: false, formation: { web: 2, worker: 1 }, canScale: false, fixedBy: ['worker'], containers: [] },
    );
    assert.deepEqual(
      r.containers.map((c) => [c.name, c.state, c.restarts, c.uptimeSeconds, c.cpuPercent, c.memoryBytes, c.memoryLimitBytes]),
      [
        ['a.web.1.v1', 'running', 1, 90, 12.5, 1000, 4000],
        ['a.web.2.v1', 'exited', 4, null, null, null, null],
        ['a.worker.1.v1', 'running', 1, 90, null, null, null],
      ],
    );
    assert.equal(s.stats.asked.length, 2, 'no stats are asked of a container that does not run');
  });

  test('an app with nothing deployed reports no release, scalable, no containers', async () => {
    const s = services();
    s.state.apps.create('b');
    assert.deepEqual(await s.processes.status('b'), {
      release: null,
      stopped: false,
      formation: {},
      canScale: true,
      fixedBy: [],
      containers: [],
    });
  });
});

describe('ProcessService.set', () => {
  test('max-replicas is stored for an admin key and refused to a developer key', async () => {
    const s = services();
    await liveApp(s, 'a');
    await s.processes.set('a', 'max-replicas', '7', ADMIN, new Captured(), never);
    assert.equal(s.settings.get('a', 'max-replicas'), 7);
    await assert.rejects(s.processes.set('a', 'max-replicas', '50', developer('a'), new Captured(), never), {
      code: 'PAAS_ERR_PS_FORBIDDEN',
      message: "'ps:set max-replicas' needs an admin key",
    });
    assert.equal(s.settings.get('a', 'max-replicas'), 7);
  });

  test('max-replicas outside 1..1000 or not a whole number is a usage error, nothing stored', async () => {
    const s = services();
    s.state.apps.create('a');
    for (const bad of ['0', '1001', '9999', '10000', '2.5', 'ten', '', '-1']) {
      await assert.rejects(s.processes.set('a', 'max-replicas', bad, ADMIN, new Captured(), never), {
        code: 'PAAS_ERR_PS_SET',
        exitCode: 2,
        message: `max-replicas must be a whole number from 1 to 1000, got '${bad}'`,
      });
    }
    assert.equal(s.settings.get('a', 'max-replicas'), 20);
    await s.processes.set('a', 'max-replicas', '1000', ADMIN, new Captured(), never);
    assert.equal(s.settings.get('a', 'max-replicas'), 1000);
  });

  test('restart-policy takes no, always, unless-stopped and on-failure[:N] from any key', async () => {
    const s = services();
    s.state.apps.create('a');
    const dev = developer('a');
    const cases: [string, unknown][] = [
      ['no', { policy: 'no' }],
      ['always', { policy: 'always' }],
      ['unless-stopped', { policy: 'unless-stopped' }],
      ['on-failure', { policy: 'on-failure', maxRetries: 10 }],
      ['on-failure:3', { policy: 'on-failure', maxRetries: 3 }],
      ['on-failure:0', { policy: 'on-failure', maxRetries: 0 }],
    ];
    for (const [value, stored] of cases) {
      await s.processes.set('a', 'restart-policy', value, dev, new Captured(), never);
      assert.deepEqual(s.settings.get('a', 'restart-policy'), stored, value);
    }
  });

  test('the stored restart policy reaches the containers of the next restart', async () => {
    const s = services();
    await liveApp(s, 'a');
    await s.processes.set('a', 'restart-policy', 'unless-stopped', developer('a'), new Captured(), never);
    await s.processes.restart('a', new Captured(), never);
    assert.deepEqual(s.runtime.specs.at(-1)!.restart, { policy: 'unless-stopped' });
  });

  test('a retry count on another policy, an unknown policy or setting is a usage error, nothing stored', async () => {
    const s = services();
    s.state.apps.create('a');
    for (const bad of ['always:3', 'unless-stopped:1', 'no:0', 'sometimes', 'on-failure:', 'on-failure:12345', 'On-Failure', '']) {
      await assert.rejects(s.processes.set('a', 'restart-policy', bad, ADMIN, new Captured(), never), {
        code: 'PAAS_ERR_PS_SET',
        message: `restart-policy must be no, always, on-failure, unless-stopped or on-failure:N, got '${bad}'`,
      });
    }
    await assert.rejects(s.processes.set('a', 'memory', '1g', ADMIN, new Captured(), never), {
      code: 'PAAS_ERR_PS_SET',
      message: "unknown setting 'memory' (use max-replicas or restart-policy)",
    });
    assert.equal(s.settings.get('a', 'restart-policy'), null);
  });

  test('a setting waits for the app lock before it is stored', async () => {
    const s = services();
    s.state.apps.create('a');
    const release = holdLock(s.locks, 'a', 'a git push');
    const out = new Captured();
    const pending = s.processes.set('a', 'restart-policy', 'always', ADMIN, out, never);
    await settle(1);
    assert.equal(out.text, '-----> Waiting for a git push of a to finish\n');
    assert.equal(s.settings.get('a', 'restart-policy'), null);
    await release();
    await pending;
    assert.deepEqual(s.settings.get('a', 'restart-policy'), { policy: 'always' });
  });
});
