import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { test } from 'node:test';
import { silentLogger } from '../../../src/log/logger.js';
import { CommandHost } from '../../../src/plugin-host/command-host.js';
import { CommandRegistry } from '../../../src/plugin-host/command-registry.js';
import { definePlugin } from '../../../src/plugin-host/plugin.js';
import type { PluginApi } from '../../../src/plugin-host/plugin-api.js';

const noop = { summary: 's', usage: 'u', run: () => 0 };

test('duplicate commands and aliases of nothing fail at boot', () => {
  const a = definePlugin({ name: 'a', commands: { 'x:y': noop } });
  const b = definePlugin({ name: 'b', commands: { 'x:y': noop } });
  assert.throws(() => new CommandRegistry([a, b]), /declared by both plugin 'a' and plugin 'b'/);
  const c = definePlugin({ name: 'c', commands: { 'c:x': noop }, aliases: { 'c:y': 'c:nothing' } });
  assert.throws(() => new CommandRegistry([c]), /unknown command 'c:nothing'/);
  const d = definePlugin({ name: 'd', commands: { 'd:x': noop }, aliases: { 'x:y': 'd:x' } });
  assert.throws(() => new CommandRegistry([a, d]), /declared by both plugin 'd' and plugin 'd'/);
});

async function run(host: CommandHost, words: string[], role: 'admin' | 'developer' = 'admin') {
  const out = new PassThrough();
  const err = new PassThrough();
  let o = '';
  let e = '';
  out.on('data', (d) => (o += d));
  err.on('data', (d) => (e += d));
  const code = await host.run(
    words,
    { keyName: 'k', role, apps: [], canCreate: false },
    { stdin: new PassThrough(), stdout: out, stderr: err, signal: new AbortController().signal, pty: null },
  );
  return { code, o, e };
}

test('the host resolves the app, checks arguments, records the audit and turns errors into one line', async () => {
  const audit: { keyName: string | null; command: string; app: string | null; exitCode: number }[] = [];
  const seen: unknown[] = [];
  const p = definePlugin({
    name: 'p',
    commands: {
      'p:app': {
        summary: 's',
        usage: 'p:app [app] <x>',
        app: 'required',
        minArgs: 1,
        maxArgs: 1,
        run: (ctx) => void seen.push([ctx.app, ctx.args]),
      },
      'p:boom': {
        summary: 's',
        usage: 'p:boom',
        run: () => {
          throw new Error('kaput');
        },
      },
    },
    aliases: { 'p:alias': 'p:app' },
  });
  const registry = new CommandRegistry([p]);
  const api = { version: 'test' } as PluginApi;
  const host = new CommandHost({
    commands: registry,
    api,
    appExists: (app) => app === 'myapp',
    audit: (e) => audit.push(e),
    log: silentLogger(),
  });
  assert.equal((await run(host, ['p:app', 'myapp', 'x'])).code, 0);
  assert.equal((await run(host, ['p:alias', '-a', 'myapp', 'y'])).code, 0);
  assert.equal((await run(host, ['p:app', 'x', '--app=myapp'])).code, 0);
  assert.deepEqual(seen, [
    ['myapp', ['x']],
    ['myapp', ['y']],
    ['myapp', ['x']],
  ]);
  let r = await run(host, ['p:app', 'nope', 'x']);
  assert.equal(r.code, 1);
  assert.equal(r.e, "error: app 'nope' does not exist\n");
  r = await run(host, ['p:app', 'Bad_Name', 'x']);
  assert.equal(r.code, 2);
  assert.match(r.e, /invalid app name 'Bad_Name'/);
  r = await run(host, ['p:app', 'myapp']);
  assert.match(r.e, /missing arguments/);
  r = await run(host, ['p:app', 'myapp', 'x', 'y']);
  assert.match(r.e, /unexpected argument 'y'/);
  r = await run(host, ['p:app', 'myapp', 'x', '--bogus']);
  assert.match(r.e, /Unknown option '--bogus'/);
  r = await run(host, ['p:ap']);
  assert.match(r.e, /unknown command 'p:ap'; did you mean 'p:app'/);
  r = await run(host, ['p:boom']);
  assert.equal(r.e, 'error: internal error: kaput\n');
  r = await run(host, ['p:app', 'myapp', 'x'], 'developer');
  assert.equal(r.e, "error: 'p:app' needs an admin key\n");
  assert.equal(r.e.split('\n').length, 2, 'one line');
  assert.equal(audit.length, 11);
  assert.deepEqual(audit[0], { keyName: 'k', command: 'p:app', app: 'myapp', exitCode: 0 });
  assert.deepEqual(audit.at(-1), { keyName: 'k', command: 'p:app', app: 'myapp', exitCode: 1 });
});
