// Merged logs of several containers (history in time order, follow with containers added later)
// and one-off runs (`paas run`): exit codes, stdin, split stdout/stderr, tty, abort, removal.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import type Dockerode from 'dockerode';
import { silentLogger } from '../../src/log/logger.js';
import { ContainerRuntime } from '../../src/runtime/container-runtime.js';
import type { ContainerSpec } from '../../src/runtime/container-spec.js';
import { type LogLine, LogStream } from '../../src/runtime/log-stream.js';
import { ensureBusyboxImage } from '../helpers/base-images.js';
import { Collector, cleanupByLabel, requireDocker, runFilter, testLabels } from '../helpers/docker.js';
import { waitFor } from '../helpers/wait.js';

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
    // The two containers take turns through files in a shared bind mount (a1 b1 a2 b2 a3): each
    // prints its line only after the other's previous line, whatever the machine's speed.
    const sync = fs.mkdtempSync(path.join(os.tmpdir(), 'paas-logs-sync-'));
    fs.chmodSync(sync, 0o777);
    const binds = [`${sync}:/sync`];
    const after = (f: string) => `while [ ! -e /sync/${f} ]; do sleep 0.05; done; sleep 0.1`;
    const say = (line: string, err = false) => `echo ${line}${err ? ' >&2' : ''}; touch /sync/${line}`;
    const a = await rt.start(
      spec({ replica: 1, binds, command: `${say('a1')}; ${after('b1')}; ${say('a2', true)}; ${after('b2')}; ${say('a3')}; sleep 300` }),
    );
    const b = await rt.start(spec({ replica: 2, binds, command: `${after('a1')}; ${say('b1')}; ${after('a2')}; ${say('b2')}; sleep 300` }));
    try {
      await waitFor(
        'all five lines',
        async () => fs.existsSync(path.join(sync, 'a3')) && (await rt.logsTail(a.id, 10)).endsWith('a3'),
        60_000,
      );
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
    } finally {
      await Promise.all([rt.stop(a.id, 0), rt.stop(b.id, 0)]);
      fs.rmSync(sync, { recursive: true, force: true });
    }
  });

  test('follow: new lines as they come, a container added later joins, abort ends the stream', { timeout: 120_000 }, async () => {
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
    // abort once the stream delivered a line: the stream then ends (or the test times out)
    const s2 = rt.streamLogs([a.id], { follow: true, tail: 1 }, ac.signal);
    const more = await collect(s2, (got) => {
      if (got.length === 1) ac.abort();
      return false;
    });
    assert.match(more[0]?.line ?? '', /^tick \d+$/);
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

  // the one-off sleeps 300 s and the test times out after 120 s: only the abort can end it in time
  test('aborting a one-off kills and removes its container and rejects', { timeout: 120_000 }, async () => {
    const ac = new AbortController();
    const out = new Collector();
    const p = rt.runOneOff(spec({ process: 'run', command: 'echo started; sleep 300' }), {
      tty: false,
      stdout: out.stream,
      stderr: out.stream,
      signal: ac.signal,
    });
    await waitFor('the one-off to start', async () => out.text.includes('started'));
    ac.abort();
    await assert.rejects(p, { code: 'PAAS_ERR_RUNTIME_CANCELLED' });
    assert.deepEqual(await rt.list({ app, process: 'run' }), []);
  });
});
