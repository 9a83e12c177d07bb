import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { after, describe, test } from 'node:test';
import type Dockerode from 'dockerode';
import { AppLogStore, type LogPosition } from '../../../src/app-logs/app-log-store.js';
import { LogCollector } from '../../../src/app-logs/log-collector.js';
import type { LogRecord } from '../../../src/app-logs/log-record.js';
import { DEFAULT_RETENTION } from '../../../src/app-logs/log-retention.js';
import { silentLogger } from '../../../src/log/logger.js';
import type { DockerEvent } from '../../../src/runtime/docker-events.js';
import { logFrame, settle } from '../fakes/ops-services-fakes.js';

const T = (s: number) => `2026-01-01T00:00:0${s}.5Z`;
const ns = (t: string) => {
  const m = /^(.*?)(?:\.(\d+))?Z$/.exec(t)!;
  return BigInt(Date.parse(`${m[1]}Z`) / 1000) * 1_000_000_000n + BigInt((m[2] ?? '').padEnd(9, '0'));
};

/** The part of the engine the collector uses: list, inspect, and log streams that honour `since` and follow a running container. */
class FakeDocker {
  readonly containers = new Map<
    string,
    { labels: Record<string, string>; frames: Array<{ t: string; buf: Buffer }>; live: PassThrough | null; running: boolean }
  >();
  readonly asked: Array<{ id: string; since?: string }> = [];

  add(id: string, labels: Record<string, string>): void {
    this.containers.set(id, {
      labels: { 'paas.app': 'a', 'paas.release': '1', 'paas.replica': '1', ...labels },
      frames: [],
      live: null,
      running: true,
    });
  }
  write(id: string, t: string, text: string, stream: 'stdout' | 'stderr' = 'stdout'): void {
    const c = this.containers.get(id)!;
    const buf = logFrame(stream, t, text);
    c.frames.push({ t, buf });
    c.live?.write(buf);
  }
  stop(id: string): void {
    const c = this.containers.get(id)!;
    c.running = false;
    c.live?.end();
    c.live = null;
  }
  asDockerode(): Dockerode {
    return {
      listContainers: async (o?: { filters?: { label?: string[] } }) =>
        [...this.containers.entries()]
          .filter(([, c]) =>
            (o?.filters?.label ?? []).every((f) => {
              const [k, v] = f.split('=');
              return c.labels[k!] !== undefined && (v === undefined || c.labels[k!] === v);
            }),
          )
          .map(([Id]) => ({ Id })),
      getContainer: (id: string) => ({
        inspect: async () => ({ Config: { Labels: this.containers.get(id)!.labels } }),
        logs: async (o: { since?: string }) => {
          this.asked.push({ id, ...(o.since ? { since: o.since } : {}) });
          const c = this.containers.get(id)!;
          const [s, n = '0'] = (o.since ?? '0').split('.');
          const from = BigInt(s!) * 1_000_000_000n + BigInt(n.padEnd(9, '0'));
          const out = new PassThrough();
          for (const f of c.frames) if (ns(f.t) >= from) out.write(f.buf);
          if (c.running) c.live = out;
          else out.end();
          return out;
        },
      }),
    } as unknown as Dockerode;
  }
}

const roots: string[] = [];
after(() => {
  for (const r of roots) fs.rmSync(r, { recursive: true, force: true });
});

function setup(root = fs.mkdtempSync(path.join(os.tmpdir(), 'paas-collector-')), labels?: Record<string, string>) {
  roots.push(root);
  const docker = new FakeDocker();
  const store = new AppLogStore(root, () => DEFAULT_RETENTION, silentLogger());
  let onEvent: (e: DockerEvent) => void = () => undefined;
  const shipped: LogRecord[] = [];
  const collector = new LogCollector({
    docker: docker.asDockerode(),
    store,
    events: (fn, _signal, onConnect) => {
      onEvent = fn;
      onConnect?.(false);
    },
    ship: (_app, rs) => shipped.push(...rs),
    log: silentLogger(),
    labels,
  });
  const stop = new AbortController();
  return { root, docker, store, collector, shipped, stop, event: (e: DockerEvent) => onEvent(e) };
}
/** A worker container that wrote `one` and `two`, followed by a started collector. */
async function workerFollowed(s: ReturnType<typeof setup>) {
  s.docker.add('w', { 'paas.process': 'worker' });
  s.docker.write('w', T(1), 'one');
  s.docker.write('w', T(2), 'two');
  s.collector.start(s.stop.signal);
  await settle();
  return s;
}
const texts = async (store: AppLogStore, app = 'a') =>
  (await store.read(app, { lines: 1000 })).map((r) => `${r.p}.${r.i}@v${r.r} ${r.s} ${r.m}`);

describe('LogCollector', () => {
  test('follows every app container but interactive runs, storing each line with release, process and replica; live listeners and the drain get them', async () => {
    const s = setup();
    s.docker.add('web1', { 'paas.process': 'web' });
    s.docker.add('run0', { 'paas.process': 'run', 'paas.oneoff': '1', 'paas.replica': '0' });
    s.docker.add('cron0', { 'paas.process': 'cron', 'paas.oneoff': '1', 'paas.replica': '0' });
    s.docker.write('web1', T(1), 'booting');
    s.docker.write('run0', T(1), 'secret shell');
    s.docker.write('cron0', T(2), 'nightly job', 'stderr');
    s.collector.start(s.stop.signal);
    await settle();
    const live: Array<{ rs: LogRecord[]; at: LogPosition }> = [];
    const off = s.collector.subscribe('a', (rs, at) => live.push({ rs, at }));
    s.docker.write('web1', T(3), 'GET / 200');
    await settle();
    assert.deepEqual((await texts(s.store)).sort(), ['cron.0@v1 e nightly job', 'web.1@v1 o GET / 200', 'web.1@v1 o booting']);
    assert.deepEqual(
      live.flatMap((l) => l.rs.map((r) => r.m)),
      ['GET / 200'],
    );
    assert.deepEqual(s.shipped.map((r) => r.m).sort(), ['GET / 200', 'booting', 'nightly job']);
    assert.equal(s.collector.following('a'), 2, 'web and cron, not the interactive run');
    off();
    s.stop.abort();
    await settle();
    assert.equal(s.collector.following('a'), 0);
  });

  test("only this server's containers are followed: another paas on the engine with an app of the same name stores nothing here", async () => {
    const s = setup(undefined, { 'paas.test-run': 'mine', 'paas.test-mark': '' });
    s.docker.add('mine', { 'paas.process': 'web', 'paas.test-run': 'mine', 'paas.test-mark': 'x' });
    s.docker.add('theirs', { 'paas.process': 'web', 'paas.test-run': 'theirs', 'paas.test-mark': 'x' });
    s.docker.add('unmarked', { 'paas.process': 'web' });
    for (const id of ['mine', 'theirs', 'unmarked']) s.docker.write(id, T(1), `from ${id}`);
    s.collector.start(s.stop.signal);
    await settle();
    // a start event of another server's container is not followed either
    s.docker.add('theirs2', { 'paas.process': 'worker', 'paas.test-run': 'theirs' });
    s.docker.write('theirs2', T(2), 'from theirs2');
    s.event({ action: 'start', id: 'theirs2', app: 'a' } as DockerEvent);
    await settle();
    assert.deepEqual(await texts(s.store), ['web.1@v1 o from mine']);
    assert.equal(s.collector.following('a'), 1);
    s.stop.abort();
    await settle();
  });

  test('a container started again is resumed where its stored lines end: none doubled, none lost', async () => {
    const s = await workerFollowed(setup());
    s.docker.stop('w');
    await settle();
    assert.equal(s.collector.following('a'), 0);
    // restarted by its restart policy: the engine replays history from `since`
    s.docker.containers.get('w')!.running = true;
    s.docker.write('w', T(2), 'two again, same time');
    s.event({ action: 'start', id: 'w', app: 'a', time: 0 });
    await settle();
    s.docker.write('w', T(3), 'three');
    await settle();
    assert.deepEqual(await texts(s.store), [
      'worker.1@v1 o one',
      'worker.1@v1 o two',
      'worker.1@v1 o two again, same time',
      'worker.1@v1 o three',
    ]);
    assert.deepEqual(s.docker.asked.at(-1), { id: 'w', since: `${Date.parse('2026-01-01T00:00:02Z') / 1000}.500000000` });
    s.stop.abort();
  });

  test('a new control plane on the same store resumes each container from its last stored line', async () => {
    const first = await workerFollowed(setup());
    first.stop.abort();
    await settle();
    // lines written while no control plane ran, two of them at the time of the last stored one
    const second = setup(first.root);
    second.docker.containers.set('w', first.docker.containers.get('w')!);
    second.docker.write('w', T(2), 'also at two');
    second.docker.write('w', T(3), 'three');
    second.collector.start(second.stop.signal);
    await settle();
    assert.deepEqual(await texts(second.store), [
      'worker.1@v1 o one',
      'worker.1@v1 o two',
      'worker.1@v1 o also at two',
      'worker.1@v1 o three',
    ]);
    second.stop.abort();
  });
});
