import { AppError } from '../../src/errors/app-error.js';
import { parseConfigPairs } from '../../src/deploy/operation-inputs.js';
import { BUILD_ARGS_KEY, BUILDER_KEY } from '../../src/deploy/setting-keys.js';
import { table, writeJson } from '../../src/plugin-host/output.js';
import { definePlugin } from '../../src/plugin-host/plugin.js';

const CHOICES = ['dockerfile', 'pack', 'template', 'auto'];

export default definePlugin({
  name: 'builder',
  commands: {
    'builder:set': {
      summary: 'Choose how the app is built: dockerfile, pack, template, or auto (Dockerfile, then pack, then template)',
      usage: 'builder:set [app] <dockerfile|pack|template|auto>',
      examples: ['paas builder:set myapp pack', 'paas builder:set myapp auto'],
      app: 'required',
      minArgs: 1,
      maxArgs: 1,
      run({ app, args, services, stdout }) {
        const b = args[0]!.toLowerCase();
        if (!CHOICES.includes(b))
          throw new AppError('PAAS_ERR_BUILDER_UNKNOWN', `unknown builder '${args[0]}' (use ${CHOICES.join(', ')})`, { exitCode: 2 });
        if (b === 'auto') services.state.appSettings.unset(app, BUILDER_KEY);
        else services.state.appSettings.set(app, BUILDER_KEY, b);
        stdout.write(`Builder of ${app} set to ${b} (applies at the next push)\n`);
        return 0;
      },
    },
    'builder:build-args': {
      summary: 'Set, unset (K=) or list the build args passed to the next builds',
      usage: 'builder:build-args [app] [K=V | K= ...] [--json]',
      examples: ['paas builder:build-args myapp NODE_ENV=production', 'paas builder:build-args myapp NODE_ENV='],
      app: 'required',
      run({ app, args, services, stdout, json }) {
        const current = services.state.appSettings.get<Record<string, string>>(app, BUILD_ARGS_KEY) ?? {};
        if (args.length) {
          const pairs = parseConfigPairs(args);
          for (const [k, v] of Object.entries(pairs)) {
            if (v === '') delete current[k];
            else current[k] = v;
          }
          services.state.appSettings.set(app, BUILD_ARGS_KEY, current);
          stdout.write(`Build args of ${app} updated (apply at the next push)\n`);
        }
        if (json) writeJson(stdout, current);
        else if (!args.length) stdout.write(table(['ARG', 'VALUE'], Object.entries(current)));
        return 0;
      },
    },
  },
});
