// ContainerRuntime against the real engine: start on the bridge network and reach the container
// by IP, labels and names, boot-crash detection with log lines, idempotent stop, list filters,
// stats, events, image hygiene.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { execa } from 'execa';
import type Dockerode from 'dockerode';
import { isAppError } from '../../src/errors/app-error.js';
import { silentLogger } from '../../src/log/logger.js';
import { ContainerCrashedError, ContainerRuntime } from '../../src/runtime/container-runtime.js';
import type { ContainerSpec } from '../../src/runtime/container-spec.js';
import type { DockerEvent } from '../../src/runtime/docker-events.js';
import { ensureBusyboxImage } from '../helpers/base-images.js';
import { cleanupByLabel, httpGet, requireDocker, runFilter, testLabels } from '../helpers/docker.js';
import { waitFor } from '../helpers/wait.js';

const labels = testLabels('runtime');
const run = labels['paas.test.run']!;
const network = `paas-test-${run}`;
// app names are unique per run so list() filters never see another file's containers
const app = `rt-${run.split('-').pop()}`;
const APP = app;

const WEB_CMD =
  'mkdir -p /www/cgi-bin && printf \'#!/bin/sh\\nprintf "Content-Type: text/plain\\\\r\\\\n\\\\r\\\\n"\\nenv | sort\\n\' > /www/cgi-bin/env && chmod +x /www/cgi-bin/env && echo booted on $PORT && exec httpd -f -p $PORT -h /www';

describe('ContainerRuntime lifecycle', () => {
  let docker: Dockerode;
  let rt: ContainerRuntime;
  let image: string;

  const spec = (over: Partial<ContainerSpec> = {}): ContainerSpec => ({
    app,
    process: 'web',
    release: 1,
    replica: 1,
    image,
    command: WEB_CMD,
    env: { GREETING: 'héllo wörld', WITH_EQUALS: 'a=b=c', PORT: '1' },
    port: 5000,
    labels,
    ...over,
  });

  before(async () => {
    docker = await requireDocker();
    image = await ensureBusyboxImage();
    rt = new ContainerRuntime(docker, silentLogger(), { network, labels });
  });

  after(async () => {
    await cleanupByLabel(runFilter(labels));
  });

  test('ensureNetwork creates the bridge network once, idempotently, also under concurrency', async () => {
    await Promise.all([rt.ensureNetwork(), rt.ensureNetwork()]);
    const other = new ContainerRuntime(docker, silentLogger(), { network, labels });
    await other.ensureNetwork();
    const nets = (await docker.listNetworks()).filter((n) => n.Name === network);
    assert.equal(nets.length, 1);
    assert.equal(nets[0]!.Driver, 'bridge');
  });

  test('start: named, labelled, on the network; reachable by IP with PORT and config env', async () => {
    const c = await rt.start(spec());
    assert.match(c.name, new RegExp(`^${app}\\.web\\.1\\.v1\\.[0-9a-f]{6}$`));
    assert.equal(c.app, app);
    assert.equal(c.process, 'web');
    assert.equal(c.release, 1);
    assert.equal(c.replica, 1);
    assert.equal(c.port, 5000);
    assert.equal(c.state, 'running');
    assert.ok(c.startedAt);
    assert.equal(c.restartCount, 0);
    assert.match(c.ip ?? '', /^\d+\.\d+\.\d+\.\d+$/);

    const raw = await docker.getContainer(c.id).inspect();
    assert.equal(raw.Config.Labels['paas.app'], app);
    assert.equal(raw.Config.Labels['paas.process'], 'web');
    assert.equal(raw.Config.Labels['paas.release'], '1');
    assert.equal(raw.Config.Labels['paas.replica'], '1');
    assert.equal(raw.Config.Labels['paas.port'], '5000');
    assert.equal(raw.HostConfig.RestartPolicy?.Name, 'on-failure');
    assert.equal(raw.HostConfig.RestartPolicy?.MaximumRetryCount, 10);
    assert.deepEqual(Object.keys(raw.NetworkSettings.Networks), [`${network}-${app}`], "joined the app's own network only");
    assert.equal(c.ip, raw.NetworkSettings.Networks[`${network}-${app}`]!.IPAddress);

    await rt.waitUp(c.id, 500);
    const res = await httpGet(`http://${c.ip}:5000/cgi-bin/env`);
    assert.equal(res.status, 200);
    assert.match(res.body, /^PORT=5000$/m, 'PORT from the spec wins over a PORT config var');
    assert.match(res.body, /^GREETING=héllo wörld$/m);
    assert.match(res.body, /^WITH_EQUALS=a=b=c$/m);

    const viaInspect = await rt.inspect(c.id);
    assert.equal(viaInspect?.ip, c.ip);
    await rt.stop(c.id, 1);
  });

  // A crash must end waitUp at once: the window is 10 minutes and the test's timeout 2, so a
  // waitUp that sat out its window fails the test without a wall-clock assertion.
  test('waitUp throws PAAS_ERR_RUNTIME_CRASHED with the exit code and the last 20 log lines when the app exits on boot', {
    timeout: 120_000,
  }, async () => {
    const c = await rt.start(
      spec({
        process: 'crashy',
        command: 'for i in $(seq 1 30); do echo "boot line $i"; done; sleep 0.2; echo "fatal: no DATABASE_URL" >&2; exit 3',
        restart: { policy: 'no' },
      }),
    );
    await assert.rejects(rt.waitUp(c.id, 600_000), (e: unknown) => {
      assert.ok(e instanceof ContainerCrashedError);
      assert.ok(isAppError(e));
      assert.equal(e.code, 'PAAS_ERR_RUNTIME_CRASHED');
      assert.equal(e.containerExitCode, 3);
      assert.equal(e.logTail.length, 20);
      assert.equal(e.logTail.at(-1), 'fatal: no DATABASE_URL');
      assert.equal(e.logTail[0], 'boot line 12');
      assert.match(e.message.split('\n')[0]!, /exited during boot \(exit code 3\)/);
      assert.match(e.message, /fatal: no DATABASE_URL/);
      return true;
    });
    await rt.stop(c.id);
  });

  test('waitUp also catches a crash loop under the on-failure restart policy', { timeout: 120_000 }, async () => {
    const c = await rt.start(spec({ process: 'looper', command: 'echo trying; sleep 0.3; exit 1' }));
    await assert.rejects(rt.waitUp(c.id, 600_000), { code: 'PAAS_ERR_RUNTIME_CRASHED' });
    await rt.stop(c.id, 0);
  });

  // init forwards SIGTERM to httpd, so stop does not sit out the grace period: with a grace of
  // 10 minutes and a test timeout of 2, a stop that waited for the grace fails the test.
  test('stop removes the container; stopping again, or an unknown id, is fine', { timeout: 120_000 }, async () => {
    const c = await rt.start(spec({ process: 'stopme' }));
    await rt.stop(c.id, 600);
    assert.equal(await rt.inspect(c.id), null);
    await rt.stop(c.id);
    await rt.stop('0000000000000000000000000000000000000000000000000000000000000000');
  });

  test('list filters by app, process and release; other apps are not listed', async () => {
    // its own app name: a container left by a failed test above cannot disturb the counts
    const app = `${APP}-l`;
    const a = await rt.start(spec({ app, process: 'web', release: 2, replica: 1 }));
    const b = await rt.start(spec({ app, process: 'web', release: 2, replica: 2 }));
    const w = await rt.start(spec({ app, process: 'worker', release: 3, replica: 1, command: 'sleep 300' }));
    const other = await rt.start(spec({ app: `${app}-other`, process: 'web', release: 2 }));
    const all = await rt.list({ app });
    assert.deepEqual(all.map((i) => i.id).sort(), [a.id, b.id, w.id].sort());
    assert.deepEqual(
      (await rt.list({ app, process: 'web' })).map((i) => i.replica),
      [1, 2],
    );
    assert.deepEqual(
      (await rt.list({ app, release: 3 })).map((i) => i.id),
      [w.id],
    );
    assert.ok(
      (await rt.list()).some((i) => i.id === other.id),
      'unfiltered list includes every paas app',
    );
    for (const c of [a, b, w, other]) await rt.stop(c.id, 1);
    assert.deepEqual(await rt.list({ app }), []);
  });

  test('logsTail returns the last N lines of stdout and stderr', async () => {
    const c = await rt.start(spec({ process: 'talker', command: 'echo one; sleep 0.2; echo two >&2; sleep 0.2; echo three; sleep 300' }));
    await waitFor('all three lines in the log', async () => (await rt.logsTail(c.id, 10)).endsWith('three'));
    assert.equal(await rt.logsTail(c.id, 2), 'two\nthree');
    assert.equal(await rt.logsTail(c.id, 10), 'one\ntwo\nthree');
    await rt.stop(c.id, 1);
    await assert.rejects(rt.logsTail(c.id, 5), { code: 'PAAS_ERR_RUNTIME_NOT_FOUND' });
  });

  test('a missing image → PAAS_ERR_RUNTIME_IMAGE_MISSING and nothing is left behind', async () => {
    await assert.rejects(rt.start(spec({ process: 'ghost', image: 'paas-test/never-built:v9' })), {
      code: 'PAAS_ERR_RUNTIME_IMAGE_MISSING',
    });
    await assert.rejects(rt.start(spec({ app: 'Bad_Name' })), { code: 'PAAS_ERR_RUNTIME_INVALID_SPEC' });
    assert.deepEqual(await rt.list({ app, process: 'ghost' }), []);
  });

  test('resource limits and binds are applied', async () => {
    const c = await rt.start(
      spec({ process: 'limited', memoryBytes: 64 * 1024 * 1024, nanoCpus: 500_000_000, binds: ['/etc/hostname:/host-hostname:ro'] }),
    );
    const raw = await docker.getContainer(c.id).inspect();
    assert.equal(raw.HostConfig.Memory, 64 * 1024 * 1024);
    assert.equal(raw.HostConfig.NanoCpus, 500_000_000);
    assert.deepEqual(raw.HostConfig.Binds, ['/etc/hostname:/host-hostname:ro']);
    const s = await rt.stats(c.id);
    assert.ok(s.memoryBytes > 0 && s.memoryBytes < 64 * 1024 * 1024, JSON.stringify(s));
    assert.equal(s.memoryLimitBytes, 64 * 1024 * 1024);
    await rt.stop(c.id, 1);
  });

  test('stats: a busy loop under a 0.5 CPU limit shows CPU use, capped near 50 %', async () => {
    const c = await rt.start(spec({ process: 'busy', command: 'while :; do :; done', nanoCpus: 500_000_000 }));
    // stats compares two samples; the first may come before the loop has run for a whole sample
    const s = await waitFor('the busy loop to show in stats', async () => {
      const x = await rt.stats(c.id);
      return x.cpuPercent > 5 && x;
    });
    assert.ok(s.cpuPercent <= 60, `cpu ${s.cpuPercent}% over the 0.5 CPU limit: ${JSON.stringify(s)}`);
    await rt.stop(c.id, 1);
  });

  /** Docker events from here on: resolves once the stream is connected, so nothing started after is missed. */
  const followEvents = async () => {
    const ac = new AbortController();
    const seen: DockerEvent[] = [];
    await new Promise<void>((connected) =>
      rt.events(
        (e) => seen.push(e),
        ac.signal,
        () => connected(),
      ),
    );
    return { ac, seen };
  };

  test('events reports start and die of paas containers with their app', async () => {
    const { ac, seen } = await followEvents();
    const c = await rt.start(spec({ process: 'evented', command: 'sleep 0.2; exit 4', restart: { policy: 'no' } }));
    await waitFor('the die event', async () => seen.some((e) => e.id === c.id && e.action === 'die'));
    ac.abort();
    const mine = seen.filter((e) => e.id === c.id);
    assert.ok(
      mine.some((e) => e.action === 'start' && e.app === app && e.process === 'evented'),
      JSON.stringify(mine),
    );
    const die = mine.find((e) => e.action === 'die');
    assert.equal(die?.exitCode, 4);
    await rt.stop(c.id);
  });

  test('isOwnEvent tells the events paas caused from a crash or a docker kill by hand', async () => {
    const { ac, seen } = await followEvents();
    const own = (id: string, action: string) => seen.filter((e) => e.id === id && e.action === action).map((e) => rt.isOwnEvent(e));
    try {
      const crashing = await rt.start(spec({ process: 'crashy', command: 'sleep 0.2; exit 3', restart: { policy: 'no' } }));
      await waitFor('the crash', async () => seen.some((e) => e.id === crashing.id && e.action === 'die'));
      assert.deepEqual(own(crashing.id, 'start'), [true], 'the start paas made');
      assert.deepEqual(own(crashing.id, 'die'), [false], 'the crash');
      await rt.stop(crashing.id);
      const killed = await rt.start(spec({ process: 'killed', command: 'sleep 300', restart: { policy: 'no' } }));
      await execa('docker', ['kill', killed.id]);
      await waitFor('the kill', async () => seen.some((e) => e.id === killed.id && e.action === 'die'));
      assert.deepEqual(own(killed.id, 'die'), [false], 'docker kill by hand');
      const stopped = await rt.start(spec({ process: 'stopped', command: 'sleep 300' }));
      await rt.stop(stopped.id, 1);
      await waitFor('the destroy', async () => seen.some((e) => e.id === stopped.id && e.action === 'destroy'));
      for (const a of ['die', 'destroy']) assert.deepEqual(own(stopped.id, a), [true], `${a} of rt.stop`);
      await rt.stop(killed.id);
    } finally {
      ac.abort();
    }
  });

  test('removeImages removes tags, skips images in use; pruneDanglingImages runs', async () => {
    const tag = `paas-test/rt-${run}:v1`;
    await execa('docker', ['build', '-q', '-t', tag, '--label', `paas.test.run=${run}`, '--label', 'paas.test=1', '-'], {
      input: `FROM ${image}\nRUN echo ${run} > /marker\n`,
      env: { DOCKER_BUILDKIT: '0' },
    });
    const inUse = await rt.start(spec({ process: 'user', image: tag, command: 'sleep 300' }));
    const r1 = await rt.removeImages([tag, 'paas-test/not-there:v1']);
    assert.deepEqual(r1.removed, []);
    assert.equal(r1.skipped.length, 1);
    assert.equal(r1.skipped[0]!.tag, tag);
    await rt.stop(inUse.id, 1);
    const r2 = await rt.removeImages([tag]);
    assert.deepEqual(r2.removed, [tag]);
    // a dangling image of this run: built, then its tag moved to another build
    const build = (marker: string) =>
      execa('docker', ['build', '-q', '-t', tag, '--label', `paas.test.run=${run}`, '--label', 'paas.test=1', '-'], {
        input: `FROM ${image}\nRUN echo ${marker} > /marker\n`,
        env: { DOCKER_BUILDKIT: '0' },
      });
    const dangling = (await build(`${run}-old`)).stdout.trim();
    await build(`${run}-new`);
    const docker = await requireDocker();
    assert.deepEqual((await docker.getImage(dangling).inspect()).RepoTags, [], 'the old build lost its tag');
    const p = await rt.pruneDanglingImages();
    await assert.rejects(docker.getImage(dangling).inspect(), /no such image|404/i, 'the dangling image was pruned');
    // other dangling images on the machine may go too: at least ours, with its layer
    assert.ok(p.deleted >= 1, JSON.stringify(p));
    assert.ok(p.spaceReclaimed > 0, JSON.stringify(p));
  });
});
