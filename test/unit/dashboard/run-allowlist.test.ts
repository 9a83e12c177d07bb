// The allowlist against the real command registry: every allowlisted command exists, aliases
// resolve to their command, following and interactive forms and everything else are refused.
import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { DASHBOARD_COMMANDS } from '../../../src/dashboard/run-allowlist.js';
import { allowlistRefusal } from '../../../src/plugin-host/command-allowlist.js';
import { CommandRegistry } from '../../../src/plugin-host/command-registry.js';
import { loadPlugins } from '../../../src/server/load-plugins.js';

let registry: CommandRegistry;
const dashboardRefusal = (argv: unknown, commands: CommandRegistry) => allowlistRefusal(argv, commands, DASHBOARD_COMMANDS);
before(async () => {
  registry = new CommandRegistry(await loadPlugins());
});

test('every allowlisted command is a loaded command and none reads stdin interactively', () => {
  for (const name of DASHBOARD_COMMANDS) {
    const cmd = registry.find(name);
    assert.equal(cmd?.name, name, `${name} is a command's own name`);
    assert.notEqual(cmd.spec.wantsTty, true, name);
  }
});

test('allowlisted commands pass, with --json and args', () => {
  assert.equal(dashboardRefusal(['apps:list', '--json'], registry), null);
  assert.equal(dashboardRefusal(['ps:scale', 'shop', 'web=2'], registry), null);
  assert.equal(dashboardRefusal(['logs', 'shop', '-n', '50'], registry), null);
  assert.equal(dashboardRefusal(['ps:top', 'shop', '--json'], registry), null);
});

test('other commands, following flags and malformed argv are refused', () => {
  for (const argv of [
    ['ssh-keys:add', 'x'],
    ['apps:destroy', 'shop'],
    ['run', 'shop', 'sh'],
    ['config:import', 'shop'],
    ['nosuch'],
    ['dashboard:set', 'enabled', 'off'],
  ]) {
    assert.match(dashboardRefusal(argv, registry) ?? '', /is not available in the dashboard; use the CLI$/, argv.join(' '));
  }
  assert.match(dashboardRefusal(['logs', 'shop', '-t'], registry) ?? '', /following flag/);
  assert.match(dashboardRefusal(['logs', 'shop', '--tail'], registry) ?? '', /following flag/);
  assert.match(dashboardRefusal(['logs', 'shop', '-tn', '5'], registry) ?? '', /following flag/);
  assert.match(dashboardRefusal(['ps:top', 'shop', '-w'], registry) ?? '', /following flag/);
  for (const bad of [undefined, null, 'apps:list', [], [1], ['apps:list', { x: 1 }], Array(65).fill('x')]) {
    assert.match(dashboardRefusal(bad, registry) ?? '', /argv must be/, JSON.stringify(bad));
  }
});
