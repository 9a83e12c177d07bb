import { checkExportFormat, decodeEncodedPairs, formatConfig, parseConfigText } from '../../src/inputs/config-formats.js';
import { checkConfigKey, parseConfigPairs } from '../../src/inputs/operation-inputs.js';
import { keyValues, writeJson } from '../../src/plugin-host/output.js';
import { readStdin } from '../../src/plugin-host/read-stdin.js';
import { definePlugin } from '../../src/plugin-host/plugin.js';

const noRestart = {
  'no-restart': {
    type: 'boolean' as const,
    description: 'record a release without rolling it out (ps:restart or the next push applies it)',
  },
};

/** the most `config:import` reads from stdin */
const IMPORT_LIMIT = 1024 * 1024;

function summary(app: string, r: { release: { version: number } | null; changed: string[]; rolledOut: boolean }, verb: string): string {
  if (r.changed.length === 0) return 'No change: config is already like that\n';
  const keys = r.changed.join(', ');
  // a change makes a release whenever the app has a live one
  if (r.release === null) return `${verb} ${keys} on ${app} (applies at the first deploy)\n`;
  if (!r.rolledOut)
    return `${verb} ${keys} on ${app}: recorded as v${r.release.version} without a restart (run ps:restart ${app} to apply)\n`;
  return `${verb} ${keys} on ${app}: v${r.release.version} is live\n`;
}

export default definePlugin({
  name: 'config',
  commands: {
    'config:set': {
      summary: 'Set config vars; makes a new release with the same image and rolls it out with zero downtime',
      usage: 'config:set [app] KEY=VALUE... [--encoded] [--no-restart]',
      examples: [
        'paas config:set myapp DATABASE_URL=postgres://db/x LOG_LEVEL=debug',
        'paas config:set myapp FEATURE=on --no-restart',
        'paas config:set --encoded myapp CERT="$(base64 -w0 cert.pem)"',
      ],
      app: 'required',
      access: 'app',
      flags: {
        ...noRestart,
        encoded: { type: 'boolean', description: 'the values are base64 (multi-line and quoted values survive SSH quoting)' },
      },
      async run({ app, args, flags, api, stdout, signal }) {
        const pairs = flags.encoded === true ? decodeEncodedPairs(args) : parseConfigPairs(args);
        const r = await api.config.change(app, pairs, [], { noRestart: flags['no-restart'] === true }, stdout, signal);
        stdout.write(summary(app, r, 'Set'));
        return 0;
      },
    },
    'config:unset': {
      summary: 'Remove config vars; makes a new release and rolls it out with zero downtime',
      usage: 'config:unset [app] KEY... [--no-restart]',
      examples: ['paas config:unset myapp LOG_LEVEL'],
      app: 'required',
      access: 'app',
      minArgs: 1,
      flags: noRestart,
      async run({ app, args, flags, api, stdout, signal }) {
        const keys = args.map(checkConfigKey);
        const r = await api.config.change(app, {}, keys, { noRestart: flags['no-restart'] === true }, stdout, signal);
        stdout.write(summary(app, r, 'Unset'));
        return 0;
      },
    },
    'config:get': {
      summary: 'Print the value of one config var',
      usage: 'config:get [app] KEY',
      examples: ['paas config:get myapp DATABASE_URL'],
      app: 'required',
      access: 'app',
      minArgs: 1,
      maxArgs: 1,
      run({ app, args, api, stdout, json }) {
        const value = api.config.get(app, checkConfigKey(args[0]!));
        if (json) writeJson(stdout, value);
        else stdout.write(`${value}\n`);
        return 0;
      },
    },
    'config:export': {
      summary: "Print an app's config vars as shell exports, a JSON object or an env file (config:import reads each back)",
      usage: 'config:export [app] [--format shell|json|envfile]',
      examples: ['paas config:export myapp > myapp.env', 'paas config:export myapp --format json'],
      app: 'required',
      access: 'app',
      maxArgs: 0,
      flags: { format: { type: 'string', description: 'shell (export K=\'v\' lines, the default), json or envfile (K="v" lines)' } },
      run({ app, flags, api, stdout }) {
        stdout.write(formatConfig(api.config.all(app), checkExportFormat(flags.format)));
        return 0;
      },
    },
    'config:import': {
      summary: 'Set the config vars read from stdin (shell exports, a JSON object or an env file) as one release',
      usage: 'config:import [app] [--no-restart] < file',
      examples: ['paas config:import myapp < myapp.env', 'paas config:export old | paas config:import new'],
      app: 'required',
      access: 'app',
      maxArgs: 0,
      flags: noRestart,
      async run({ app, flags, api, stdin, stdout, signal }) {
        const vars = parseConfigText(await readStdin(stdin, IMPORT_LIMIT, signal));
        const r = await api.config.change(app, vars, [], { noRestart: flags['no-restart'] === true }, stdout, signal);
        stdout.write(summary(app, r, 'Imported'));
        return 0;
      },
    },
    'config:show': {
      summary: "Show an app's config vars",
      usage: 'config:show [app] [--json]',
      examples: ['paas config:show myapp', 'paas config:show myapp --json'],
      app: 'required',
      access: 'app',
      maxArgs: 0,
      run({ app, api, stdout, json }) {
        const all = api.config.all(app);
        if (json) writeJson(stdout, all);
        else if (Object.keys(all).length === 0) stdout.write(`${app} has no config vars\n`);
        else stdout.write(`=== ${app} config vars\n${keyValues(Object.entries(all))}`);
        return 0;
      },
    },
  },
});
