import { table, writeJson } from '../../src/plugin-host/output.js';
import { definePlugin } from '../../src/plugin-host/plugin.js';

export default definePlugin({
  name: 'builder',
  commands: {
    'builder:set': {
      summary: 'Choose how the app is built: dockerfile, pack, template, or auto (Dockerfile, then pack, then template)',
      usage: 'builder:set [app] <dockerfile|pack|template|auto>',
      examples: ['paas builder:set myapp pack', 'paas builder:set myapp auto'],
      app: 'required',
      access: 'app',
      minArgs: 1,
      maxArgs: 1,
      async run({ app, args, api, stdout, signal }) {
        const b = await api.settings.setBuilder(app, args[0]!, { out: stdout, signal });
        stdout.write(`Builder of ${app} set to ${b} (applies at the next push)\n`);
        return 0;
      },
    },
    'builder:build-args': {
      summary: 'Set, unset (K=) or list the build args passed to the next builds',
      usage: 'builder:build-args [app] [K=V | K= ...] [--json]',
      examples: ['paas builder:build-args myapp NODE_ENV=production', 'paas builder:build-args myapp NODE_ENV='],
      app: 'required',
      access: 'app',
      async run({ app, args, api, stdout, signal, json }) {
        let current = api.settings.buildArgs(app);
        if (args.length) {
          current = await api.settings.updateBuildArgs(app, args, { out: stdout, signal });
          stdout.write(`Build args of ${app} updated (apply at the next push)\n`);
        }
        if (json) writeJson(stdout, current);
        else if (!args.length) stdout.write(table(['ARG', 'VALUE'], Object.entries(current)));
        return 0;
      },
    },
  },
});
