// Merged logs of several containers (history in time order, follow with containers added later)
// and one-off runs (`paas run`): exit codes, stdin, split stdout/stderr, tty, abort, removal.
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import type Dockerode from 'dockerode';
import { silentLogger } from '../../src/log/logger.js';
import { ContainerRuntime } from '../../src/runtime/container-runtime.js';
import type { ContainerSpec } from '../../src/runtime/container-spec.js';
import { type LogLine, LogStream } from '../../src/runtime/log-stream.js';
import { ensureBusyboxImage } from '../helpers/base-images.js';
import { Collector, cleanupByLabel, requireDocker, runFilter, testLabels } from '../helpers/docker.js';

const labels = testLabels('logs-run');
const run = labels['paas.test.run']!;
const app = `lr-${run.split('-').pop()}`;

describe('logs and one-off runs', () => {
  let docker: Dockerode;
  let rt: ContainerRuntime;
  let image: string;
  const spec = (over: Partial<ContainerSpec> = {}): ContainerSpec => ({
    app,
    process: 'web',
    release: 1,
    replica: 1,
    image,
    env: { SECRET_TOKEN: 's3cr3t' },
    port: 5000,
    labels,
    ...over,
  });

  before(async () => {
    docker = await requireDocker();
    image = await ensureBusyboxImage();
    rt = new ContainerRuntime(docker, silentLogger(), { network: `paas-test-${run}`, labels });
  });

  after(async () => {
    await cleanupByLabel(runFilter(labels));
  });

  async function collect(s: LogStream, until?: (lines: LogLine[]) => boolean): Promise<LogLine[]> {
    const out: LogLine[] = [];
    for await (const l of s) {
      out.push(l);
      if (until?.(out)) break;
    }
    return out;
  }

  test('history: the last N lines of each container, prefixed process.replica, merged in time order', async () => {
    // both wait for a common wall-clock second, then interleave: a1 b1 a2 b2 a3
    const at = Math.floor(Date.now() / 1000) + 3;
    const waitStart = `while [ $(date +%s) -lt ${at} ]; do sleep 0.05; done`;
    const a = await rt.start(spec({ replica: 1, command: `${waitStart}; echo a1; sleep 0.4; echo a2 >&2; sleep 0.4; echo a3; sleep 300` }));
    const b = await rt.start(spec({ replica: 2, command: `${waitStart}; sleep 0.2; echo b1; sleep 0.4; echo b2; sleep 300` }));
    while (Date.now() < at * 1000 + 1500) await new Promise((r) => setTimeout(r, 100));
    const lines = await collect(rt.streamLogs([a.id, b.id], { tail: 10 }));
    assert.deepEqual(
      lines.map((l) => `${l.prefix}:${l.line}`),
      ['web.1:a1', 'web.2:b1', 'web.1:a2', 'web.2:b2', 'web.1:a3'],
    );
    assert.equal(lines.find((l) => l.line === 'a2')?.stream, 'stderr');
    assert.ok(lines.every((l) => l.time !== null));
    assert.match(LogStream.format(lines[0]!), /^\d{4}-\d\d-\d\dT\S+ web\.1: a1$/);
    const tail1 = await collect(rt.streamLogs([a.id], { tail: 1 }));
    assert.deepEqual(
      tail1.map((l) => l.line),
      ['a3'],
    );
    await Promise.all([rt.stop(a.id, 0), rt.stop(b.id, 0)]);
  });

  test('follow: new lines as they come, a container added later joins, abort ends the stream', async () => {
    const a = await rt.start(
      spec({ process: 'worker', replica: 1, command: 'i=0; while true; do i=$((i+1)); echo tick $i; sleep 0.2; done' }),
    );
    const ac = new AbortController();
    const s = rt.streamLogs([a.id], { follow: true, tail: 0 }, ac.signal);
    let added = false;
    let b: Awaited<ReturnType<ContainerRuntime['start']>> | null = null;
    const lines = await collect(s, (got) => {
      if (!added && got.length >= 2) {
        added = true;
        void rt.start(spec({ process: 'web', replica: 3, release: 2, command: 'echo new release up; sleep 300' })).then((c) => {
          b = c;
          s.add(c.id, 'all');
        });
      }
      return got.some((l) => l.prefix === 'web.3');
    });
    assert.ok(lines.some((l) => l.prefix === 'worker.1' && /^tick \d+$/.test(l.line)));
    assert.equal(lines.find((l) => l.prefix === 'web.3')?.line, 'new release up');
    const t0 = Date.now();
    const s2 = rt.streamLogs([a.id], { follow: true, tail: 1 }, ac.signal);
    setTimeout(() => ac.abort(), 300);
    const more = await collect(s2);
    assert.ok(more.length >= 1 && Date.now() - t0 < 3000, 'abort ends a following stream');
    await rt.stop(a.id, 0);
    if (b) await rt.stop((b as { id: string }).id, 0);
  });

  test('runOneOff returns the exit code, splits stdout/stderr, gets the config, and removes the container', async () => {
    const out = new Collector();
    const err = new Collector();
    const code = await rt.runOneOff(spec({ process: 'run', command: 'echo "token=$SECRET_TOKEN port=$PORT"; echo oops >&2; exit 42' }), {
      tty: false,
      stdout: out.stream,
      stderr: err.stream,
    });
    assert.equal(code, 42);
    assert.equal(out.text, 'token=s3cr3t port=5000\n');
    assert.equal(err.text, 'oops\n');
    assert.deepEqual(await rt.list({ app, process: 'run' }), [], 'one-off container removed');
  });

  test('runOneOff forwards stdin until it ends', async () => {
    const out = new Collector();
    const stdin = new PassThrough();
    const p = rt.runOneOff(spec({ process: 'run', command: 'wc -l; cat' }), { tty: false, stdin, stdout: out.stream, stderr: out.stream });
    stdin.write('a\nb\n');
    setTimeout(() => stdin.end('c\n'), 300);
    assert.equal(await p, 0);
    assert.equal(out.text.trim(), '3');
  });

  test('runOneOff with a tty: merged output, window size applied', async () => {
    const out = new Collector();
    const stdin = new PassThrough();
    let resizeListener: ((s: { rows: number; cols: number }) => void) | null = null;
    const p = rt.runOneOff(spec({ process: 'run', command: 'sleep 0.5; stty size; echo err >&2; exit 3' }), {
      tty: true,
      stdin,
      stdout: out.stream,
      stderr: out.stream,
      initialSize: { rows: 30, cols: 100 },
      onResize: (l) => {
        resizeListener = l;
        return () => {
          resizeListener = null;
        };
      },
    });
    assert.equal(await p, 3);
    assert.match(out.text, /30 100\r?\n/);
    assert.match(out.text, /err\r?\n/);
    assert.equal(resizeListener, null, 'resize listener unsubscribed');
  });

  test('aborting a one-off kills and removes its container and rejects', async () => {
    const ac = new AbortController();
    const out = new Collector();
    const t0 = Date.now();
    const p = rt.runOneOff(spec({ process: 'run', command: 'echo started; sleep 300' }), {
      tty: false,
      stdout: out.stream,
      stderr: out.stream,
      signal: ac.signal,
    });
    while (!out.text.includes('started') && Date.now() - t0 < 5000) await new Promise((r) => setTimeout(r, 50));
    ac.abort();
    await assert.rejects(p, { code: 'PAAS_ERR_RUNTIME_CANCELLED' });
    assert.ok(Date.now() - t0 < 8000);
    assert.deepEqual(await rt.list({ app, process: 'run' }), []);
  });
});
