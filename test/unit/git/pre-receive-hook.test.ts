import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Duplex, Writable } from 'node:stream';
import { test } from 'node:test';
import { HookChannel, type PushHandler, type PushSession } from '../../../src/git/hook-channel.js';
import { parseHookRequest } from '../../../src/git/hook-protocol.js';
import { HOOK_FD, HOOK_FD_ENV, preReceiveHookScript } from '../../../src/git/hook-script.js';
import { silentLogger } from '../../../src/log/logger.js';

const A = 'a'.repeat(40);
const B = 'b'.repeat(40);
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'paas-hook-'));
const hookFile = path.join(dir, 'pre-receive');
fs.writeFileSync(hookFile, preReceiveHookScript(), { mode: 0o755 });

const session = (): PushSession => ({ app: 'app', repoDir: '/repo', signal: new AbortController().signal, keyName: 'k' });

interface HookRun {
  code: number | null;
  stdout: string;
  stderr: string;
  channel: HookChannel | null;
}

/**
 * Runs the real hook script with /bin/sh as git would (ref lines on stdin, quarantine variables
 * in the env), with the daemon's socket and verdict pipe on fds 3 and 4 served by a HookChannel
 * (`withFds` false: started as a plain receive-pack would start it, without them).
 */
function runHook(
  handler: PushHandler,
  opts: { stdin?: string; env?: Record<string, string>; withFds?: boolean; file?: string } = {},
): Promise<HookRun> {
  const withFds = opts.withFds ?? true;
  const child = spawn(opts.file ?? hookFile, [], {
    stdio: withFds ? ['pipe', 'pipe', 'pipe', 'pipe', 'pipe'] : ['pipe', 'pipe', 'pipe'],
    env: { PATH: process.env.PATH!, ...(withFds ? { [HOOK_FD_ENV]: String(HOOK_FD) } : {}), ...opts.env },
  });
  const channel = withFds
    ? new HookChannel(child.stdio[HOOK_FD] as Duplex, child.stdio[HOOK_FD + 1] as Writable, session(), handler, silentLogger())
    : null;
  // a refusing hook exits without reading its stdin (git ignores that EPIPE too)
  child.stdin!.on('error', () => {});
  child.stdin!.end(opts.stdin ?? `${A} ${B} refs/heads/main\n`);
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d) => (stdout += d));
  child.stderr!.on('data', (d) => (stderr += d));
  child.on('exit', () => channel?.close());
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, stdout, stderr, channel })));
}

test('the sh hook hands the ref updates and the quarantine env to the daemon, relays its output and exits with its code', async () => {
  let seen: unknown = null;
  const r = await runHook(
    async (_s, req, out) => {
      seen = req;
      out.write('-----> Building\n');
      out.write('line with "quotes", $dollars and \\backslashes\nno newline at the end');
      return 3;
    },
    {
      stdin: `${A} ${B} refs/heads/main\n${'0'.repeat(40)} ${A} refs/tags/v1\n`,
      env: {
        GIT_QUARANTINE_PATH: '/r/objects/incoming-x',
        GIT_OBJECT_DIRECTORY: '/r/objects/incoming-x',
        GIT_ALTERNATE_OBJECT_DIRECTORIES: '/r/objects',
      },
    },
  );
  assert.deepEqual(seen, {
    updates: [
      { oldSha: A, newSha: B, ref: 'refs/heads/main' },
      { oldSha: '0'.repeat(40), newSha: A, ref: 'refs/tags/v1' },
    ],
    gitEnv: {
      GIT_QUARANTINE_PATH: '/r/objects/incoming-x',
      GIT_OBJECT_DIRECTORY: '/r/objects/incoming-x',
      GIT_ALTERNATE_OBJECT_DIRECTORIES: '/r/objects',
    },
  });
  assert.equal(r.stdout, '-----> Building\nline with "quotes", $dollars and \\backslashes\nno newline at the end');
  assert.equal(r.code, 3);
  const ok = await runHook(async () => 0);
  assert.equal(ok.code, 0);
  assert.equal(ok.stdout, '');
  // many lines written just before the handler returns all arrive, ahead of the exit code
  const lines = Array.from({ length: 2000 }, (_, i) => `line ${i} ${'x'.repeat(60)}\n`);
  const burst = await runHook(async (_s, _req, out) => {
    for (const l of lines) out.write(l);
    return 4;
  });
  assert.equal(burst.stdout, lines.join(''));
  assert.equal(burst.code, 4);
});

test('a receive-pack not started by paas (no hook descriptors) is refused and nothing is handled', async () => {
  let called = false;
  const r = await runHook(
    async () => {
      called = true;
      return 0;
    },
    { withFds: false },
  );
  assert.equal(r.code, 1);
  assert.equal(r.stderr, 'paas: this repository only accepts pushes through paas\n');
  assert.equal(called, false);
});

test('a request that is not what the hook writes is refused without calling the handler', async () => {
  let called = false;
  const handler: PushHandler = async () => {
    called = true;
    return 0;
  };
  const r = await runHook(handler, { stdin: 'not a ref line\n' });
  assert.equal(r.code, 1);
  assert.equal(r.stdout, 'paas: malformed hook request\n');
  // a script that writes something else to fd 3 gets the same answer
  const liar = path.join(dir, 'liar');
  fs.writeFileSync(liar, `#!/bin/sh\nprintf 'X=1\\0Y=2\\0Z=3\\0\\0' >&3\ncat <&3\nread -r c <&4\nexit "$c"\n`, { mode: 0o755 });
  const r2 = await runHook(handler, { file: liar });
  assert.equal(r2.code, 1);
  assert.equal(r2.stdout, 'paas: malformed hook request\n');
  assert.equal(called, false);
});

test('a daemon that goes away mid-deploy fails the hook with a line instead of hanging', async () => {
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  const child = spawn(hookFile, [], {
    stdio: ['pipe', 'pipe', 'pipe', 'pipe', 'pipe'],
    env: { PATH: process.env.PATH!, [HOOK_FD_ENV]: String(HOOK_FD) },
  });
  const channel = child.stdio[HOOK_FD] as Duplex;
  const verdict = child.stdio[HOOK_FD + 1] as Writable;
  let request = '';
  channel.on('data', (d) => {
    request += d;
    if (request.split('\0').length > 4) release();
  });
  child.stdin!.end(`${A} ${B} refs/heads/main\n`);
  let stderr = '';
  child.stderr!.on('data', (d) => (stderr += d));
  await gate;
  channel.write('-----> Building\n');
  // the daemon dies: both descriptors close without a verdict
  channel.destroy();
  verdict.destroy();
  const code = await new Promise((resolve) => child.on('close', resolve));
  assert.equal(code, 1);
  assert.equal(stderr, 'paas: the deploy was interrupted\n');
});

test('after git exits, the channel waits for a running deploy before it lets go of the descriptors', async () => {
  let finish!: (code: number) => void;
  let started!: () => void;
  const running = new Promise<void>((r) => (started = r));
  const child = spawn(
    'sh',
    [
      '-c',
      `printf 'GIT_QUARANTINE_PATH=\\0GIT_OBJECT_DIRECTORY=\\0GIT_ALTERNATE_OBJECT_DIRECTORIES=\\0${A} ${B} refs/heads/main\\n\\0' >&3`,
    ],
    {
      stdio: ['ignore', 'ignore', 'ignore', 'pipe', 'pipe'],
    },
  );
  const hook = new HookChannel(
    child.stdio[HOOK_FD] as Duplex,
    child.stdio[HOOK_FD + 1] as Writable,
    session(),
    () => {
      started();
      return new Promise<number>((r) => (finish = r));
    },
    silentLogger(),
  );
  await running;
  await new Promise((r) => child.on('exit', r));
  hook.close();
  let settled = false;
  void hook.settled.then(() => (settled = true));
  await new Promise((r) => setTimeout(r, 100));
  assert.equal(settled, false, 'the deploy still runs: the descriptors stay');
  finish(0);
  await hook.settled;
  assert.equal((child.stdio[HOOK_FD] as Duplex).destroyed, true);
});

test('hook requests: only the three quarantine variables, then git ref lines (sha-1 or sha-256)', () => {
  const env = ['GIT_QUARANTINE_PATH=/q', 'GIT_OBJECT_DIRECTORY=/q', 'GIT_ALTERNATE_OBJECT_DIRECTORIES='];
  const c = 'c'.repeat(64);
  assert.deepEqual(parseHookRequest([...env, `${c} ${c} refs/heads/main\n`]), {
    updates: [{ oldSha: c, newSha: c, ref: 'refs/heads/main' }],
    gitEnv: { GIT_QUARANTINE_PATH: '/q', GIT_OBJECT_DIRECTORY: '/q' },
  });
  for (const bad of [
    [...env, `${A} ${B} main\n`], // not a full ref
    [...env, `${A} ${B} refs/heads/a b\n`], // a space in the ref
    [...env, `${A.slice(1)} ${B} refs/heads/main\n`], // short sha
    ['GIT_DIR=/etc', env[1]!, env[2]!, `${A} ${B} refs/heads/main\n`], // another variable
    ['GIT_QUARANTINE_PATH=/q\n/x', env[1]!, env[2]!, ''], // a newline in a value
    env, // fields missing
  ])
    assert.equal(parseHookRequest(bad), null, JSON.stringify(bad));
});
