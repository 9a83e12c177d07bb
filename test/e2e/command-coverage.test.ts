// Every command a plugin declares (and every alias) is run by at least one end-to-end test.
// Unit-speed: it loads plugins/*/*-plugin.ts the way the server does (by convention, never by
// name), and scans the sources under test/e2e and test/e2e-last for the command in a command
// position: a string literal that starts with the command word (`config:set ${APP} A=1`,
// 'help apps:destroy'), or that is exactly the command and is the first argument of a call that
// runs commands (paas.ssh('version'), paas.admin(['ssh-keys:add', ...]), paasCli(['apps:list'])).
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { pathToFileURL } from 'node:url';

const ROOT = path.resolve(import.meta.dirname, '..', '..');
const E2E_DIRS = ['test/e2e', 'test/e2e-last'].map((d) => path.join(ROOT, d));

interface PluginModule {
  default: { name: string; commands: Record<string, unknown>; aliases?: Record<string, string> };
}

/** Command names and aliases declared by every plugin under plugins/, with the plugin that declares each. */
async function declaredCommands(): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  const dir = path.join(ROOT, 'plugins');
  for (const name of fs.readdirSync(dir).sort()) {
    const sub = path.join(dir, name);
    if (!fs.statSync(sub).isDirectory()) continue;
    for (const file of fs.readdirSync(sub).filter((f) => f.endsWith('-plugin.ts'))) {
      const plugin = ((await import(pathToFileURL(path.join(sub, file)).href)) as PluginModule).default;
      for (const cmd of Object.keys(plugin.commands)) out.set(cmd, plugin.name);
      for (const alias of Object.keys(plugin.aliases ?? {})) out.set(alias, plugin.name);
    }
  }
  return out;
}

function testSources(): Array<{ file: string; text: string }> {
  const self = path.resolve(import.meta.filename);
  const files: string[] = [];
  const walk = (d: string) => {
    if (!fs.existsSync(d)) return;
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.name.endsWith('.ts') && p !== self) files.push(p);
    }
  };
  for (const d of E2E_DIRS) walk(d);
  return files.map((file) => ({ file: path.relative(ROOT, file), text: fs.readFileSync(file, 'utf8') }));
}

const escapeRe = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** Whether `source` runs `command`: see the header for what counts as a command position. */
export function mentionsCommand(source: string, command: string): boolean {
  const c = escapeRe(command);
  // a literal starting with the command and then its arguments: 'help apps:destroy', `logs ${APP} -n 5`
  const withArgs = new RegExp(`['"\`]${c}(?:\\s|\\$\\{)`);
  // exactly the command, as the first argument of something that runs commands
  const bare = new RegExp(`(?:ssh|admin|paasCli|sshArgs)\\(\\s*\\[?\\s*['"\`]${c}['"\`]`);
  return withArgs.test(source) || bare.test(source);
}

test('the matcher counts commands in command position only', () => {
  assert.equal(mentionsCommand("await paas.ssh('version')", 'version'), true);
  assert.equal(mentionsCommand('await paas.ssh(`logs $' + '{APP} -n 5`)', 'logs'), true);
  assert.equal(mentionsCommand("paasCli(['apps:list', '--host', h])", 'apps:list'), true);
  assert.equal(mentionsCommand("paas.admin(['ssh-keys:add', 'tester'])", 'ssh-keys:add'), true);
  assert.equal(mentionsCommand("ssh(['-tt'], 'run ttyapp cat')", 'run'), true);
  // not a command position
  assert.equal(mentionsCommand("path.join(paas.dataDir, 'run', 'ports.json')", 'run'), false);
  assert.equal(mentionsCommand('assert.match(r.stdout, /Usage: paas apps:destroy/)', 'apps:destroy'), false);
  // a whole word: releases:rollback does not count for releases, apps:lst not for apps:list
  assert.equal(mentionsCommand('paas.ssh(`releases:rollback $' + '{APP} v1`)', 'releases'), false);
  assert.equal(mentionsCommand("paas.ssh('apps:lst')", 'apps:list'), false);
});

test('every command and alias a plugin declares is run by an end-to-end test', async () => {
  const commands = await declaredCommands();
  assert.ok(commands.size >= 20, `found only ${commands.size} commands under plugins/: the plugin loader here is broken`);
  const sources = testSources();
  assert.ok(sources.length > 5, `found only ${sources.length} e2e test files`);
  const untested = [...commands]
    .filter(([cmd]) => !sources.some((s) => mentionsCommand(s.text, cmd)))
    .map(([cmd, plugin]) => `${cmd} (plugin ${plugin})`);
  assert.deepEqual(untested, [], `commands with no end-to-end test naming them:\n  ${untested.join('\n  ')}`);
});
