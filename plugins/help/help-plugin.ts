import { commandHelp, overviewHelp } from '../../src/plugin-host/help-text.js';
import { definePlugin } from '../../src/plugin-host/plugin.js';

export default definePlugin({
  name: 'help',
  commands: {
    help: {
      summary: 'List commands, or show one command in detail',
      usage: 'help [command]',
      maxArgs: 1,
      access: 'any',
      run({ args, commands: reg, stdout }) {
        stdout.write(args[0] ? commandHelp(reg.resolve(args[0]), reg) : overviewHelp(reg));
        return 0;
      },
    },
    version: {
      summary: 'Print the paas version',
      usage: 'version',
      maxArgs: 0,
      access: 'any',
      run({ api, stdout, json }) {
        stdout.write(json ? `${JSON.stringify({ version: api.version })}\n` : `paas ${api.version}\n`);
        return 0;
      },
    },
  },
});
