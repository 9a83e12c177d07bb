import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { commitFiles, push, viaProxy } from '../helpers/app-repo.js';
import { serverWithApp } from '../helpers/deployed-app.js';
import { dockerClient, runFilter } from '../helpers/docker.js';
import type { PaasServer } from '../helpers/paas-server.js';
import { waitFor } from '../helpers/wait.js';

// Instant rollback against a real `paas server`, Docker and proxy: after a deploy the previous
// release's web container stays paused (warm) for the app's keep-warm window; a rollback inside it
// thaws that container (no container is created) behind the same health gate, under load with no
// failed request; a warm container never gets traffic; the window ends with a timer and with the
// recovery of a control plane started after it; `keep-warm 0` turns it off; bad input is refused.

const APP = 'warm';
const HOST = `${APP}.paas.test`;

interface Box {
  id: string;
  release: number;
  state: string;
}

describe('instant rollback from the warm previous release', () => {
  let paas: PaasServer;

  /** The app's containers made by this server, any state. */
  const boxes = async (): Promise<Box[]> =>
    (await dockerClient().listContainers({ all: true, filters: { label: [`paas.app=${APP}`, runFilter(paas.labels)] } }))
      .map((c) => ({ id: c.Id, release: Number(c.Labels['paas.release']), state: c.State }))
      .sort((a, b) => a.release - b.release);
  const served = async () => (await viaProxy(paas, HOST)).body.trim();
  const releases = async () =>
    JSON.parse((await paas.ssh(`releases ${APP} --json`)).stdout) as Array<{ version: number; warmUntil: string | null }>;
  const warmOf = async () => (await releases()).find((r) => r.warmUntil !== null) ?? null;

  /** GETs in a loop (2 at a time) while `during` runs: every answer and every failure. */
  async function underLoad<T>(during: () => Promise<T>): Promise<{ result: T; bodies: string[]; failures: string[] }> {
    let stop = false;
    const bodies: string[] = [];
    const failures: string[] = [];
    const loop = async () => {
      while (!stop) {
        try {
          const r = await viaProxy(paas, HOST, '/', 5000);
          if (r.status === 200) bodies.push(r.body.trim());
          else failures.push(`HTTP ${r.status}`);
        } catch (err) {
          failures.push((err as Error).message);
        }
      }
    };
    const loops = [loop(), loop()];
    try {
      const result = await during();
      return { result, bodies, failures };
    } finally {
      stop = true;
      await Promise.all(loops);
    }
  }

  before(async () => {
    ({ paas } = await (async () => {
      const s = await serverWithApp(APP, 'A');
      await commitFiles(s.dir, { 'www/index.html': 'B\n' });
      const r = await push(s.paas, s.dir, APP);
      assert.equal(r.exitCode, 0, r.output);
      assert.match(r.output, /v1 stays warm \(1 paused web container\(s\)\) until \d\d:\d\d:\d\d UTC/);
      return s;
    })());
  });
  after(async () => {
    await paas?.destroy();
  });

  test('after a deploy the previous release is paused, out of the proxy: it never answers', async () => {
    const cs = await boxes();
    assert.deepEqual(
      cs.map((c) => [c.release, c.state]),
      [
        [1, 'paused'],
        [2, 'running'],
      ],
    );
    const { bodies, failures } = await underLoad(async () => {
      await new Promise((r) => setTimeout(r, 300));
    });
    assert.deepEqual(failures, []);
    assert.ok(bodies.length > 5);
    assert.deepEqual([...new Set(bodies)], ['B'], 'only the live release answers');
    const w = await warmOf();
    assert.equal(w?.version, 1);
    assert.ok(Date.parse(w!.warmUntil!) > Date.now() + 9 * 60_000, 'the default window is 10 minutes');
    assert.match((await paas.ssh(`releases ${APP}`)).stdout, /v1 +superseded \(warm until \d\d:\d\d:\d\d\)/);
  });

  test('a rollback inside the window switches to the warm containers under load: no failed request, no container created', async () => {
    const before = await boxes();
    const { result, bodies, failures } = await underLoad(() => paas.ssh(`releases:rollback ${APP}`));
    assert.equal(result.exitCode, 0, result.stderr);
    assert.match(result.stdout, /1 warm web container\(s\) of v1 thawed/);
    assert.match(result.stdout, /Rolled back warm to v1: v3 is live/);
    assert.deepEqual(failures, [], 'no request fails during the switch');
    assert.ok(bodies.length > 0 && bodies.every((b) => b === 'A' || b === 'B'), bodies.join(','));
    assert.equal(await served(), 'A');
    const afterRb = await boxes();
    assert.deepEqual(
      afterRb.map((c) => c.id).sort(),
      before.map((c) => c.id).sort(),
      'the same containers: v1 thawed, v2 paused, none created',
    );
    assert.deepEqual(
      afterRb.map((c) => [c.release, c.state]),
      [
        [1, 'running'],
        [2, 'paused'],
      ],
    );
    // a route change re-sends the targets of the live release, v1's thawed container among them
    const dom = await paas.ssh(`domains:add ${APP} www.warm.example`);
    assert.equal(dom.exitCode, 0, dom.stderr);
    assert.equal((await viaProxy(paas, 'www.warm.example')).body.trim(), 'A');
    assert.equal(await served(), 'A');
    // the rolled-away release is the warm one now: rolling back again is instant too
    assert.equal((await warmOf())?.version, 2);
    const again = await paas.ssh(`releases:rollback ${APP}`);
    assert.equal(again.exitCode, 0, again.stderr);
    assert.match(again.stdout, /warm web container\(s\) of v2 thawed/);
    assert.equal(await served(), 'B');
    assert.deepEqual((await boxes()).map((c) => c.id).sort(), before.map((c) => c.id).sort());
  });

  test('bad keep-warm values are refused with one line and change nothing', async () => {
    const w = await warmOf();
    assert.ok(w);
    for (const [cmd, re] of [
      [`releases:set ${APP} keep-warm abc`, /keep-warm must be a duration/],
      [`releases:set ${APP} keep-warm -5m`, /Unknown option '-5'/],
      [`releases:set ${APP} keep-warm 48h`, /keep-warm must be a duration/],
      [`releases:set ${APP} keep-warm`, /keep-warm must be a duration/],
      [`releases:set ${APP} keep-cold 5m`, /unknown setting 'keep-cold'/],
      ['releases:set --global keep-warm soon', /keep-warm must be a duration/],
    ] as const) {
      const r = await paas.ssh(cmd);
      assert.equal(r.exitCode, 2, `${cmd}: ${r.stdout}${r.stderr}`);
      assert.match(r.stderr, re, cmd);
      assert.equal(r.stderr.trim().split('\n').length, 1, `${cmd}: one line: ${r.stderr}`);
    }
    assert.deepEqual(await warmOf(), w, 'the warm release and its window are unchanged');
  });

  test('keep-warm 0 removes the warm release now, and a rollback then starts containers as today', async () => {
    const r = await paas.ssh(`releases:set ${APP} keep-warm 0`);
    assert.equal(r.exitCode, 0, r.stderr);
    assert.match(r.stdout, /keep-warm of warm set to 0 \(off\)/);
    await waitFor('no paused container', async () => (await boxes()).every((c) => c.state === 'running'), 20_000);
    assert.equal(await warmOf(), null);
    const before = await boxes();
    const rb = await paas.ssh(`releases:rollback ${APP}`);
    assert.equal(rb.exitCode, 0, rb.stderr);
    assert.match(rb.stdout, /no release is warm: starting containers/);
    assert.equal(await served(), 'A');
    const now = await boxes();
    assert.equal(now.length, 1, 'with keep-warm 0 the previous release is stopped');
    assert.ok(!before.some((c) => c.id === now[0]!.id), 'a new container serves');
  });

  test('the window ends on time, and a warm release does not survive a control plane started past its window', async () => {
    assert.equal((await paas.ssh(`releases:set ${APP} keep-warm 2s`)).exitCode, 0);
    let rb = await paas.ssh(`releases:rollback ${APP}`);
    assert.equal(rb.exitCode, 0, rb.stderr);
    assert.ok((await boxes()).some((c) => c.state === 'paused'));
    // the timer: gone within a few seconds of the window's end, with the control plane up
    await waitFor('the warm container removed at the window end', async () => (await boxes()).length === 1, 15_000, 200);
    assert.equal(await warmOf(), null);

    assert.equal((await paas.ssh(`releases:set ${APP} keep-warm 3s`)).exitCode, 0);
    rb = await paas.ssh(`releases:rollback ${APP}`);
    assert.equal(rb.exitCode, 0, rb.stderr);
    const until = Date.parse((await warmOf())!.warmUntil!);
    const live = await served();
    await paas.stop();
    assert.ok(
      (await boxes()).some((c) => c.state === 'paused'),
      'still paused while no control plane runs',
    );
    await waitFor('the window to pass', async () => Date.now() > until + 200, 10_000, 100);
    await paas.spawnServer();
    await waitFor('recovery removes the expired warm container', async () => (await boxes()).length === 1, 20_000, 200);
    const [c] = await boxes();
    assert.equal(c!.state, 'running');
    assert.equal(await warmOf(), null);
    assert.equal(await served(), live);
  });
});
