import { parseLineCount } from '../../src/inputs/operation-inputs.js';
import { CommandErrors } from '../../src/plugin-host/command-errors.js';
import { definePlugin } from '../../src/plugin-host/plugin.js';
import { showProxyLog } from './proxy-log.js';

export default definePlugin({
  name: 'logs',
  commands: {
    logs: {
      summary: "Show an app's container logs, merged and prefixed by process.replica; -t follows across deploys",
      usage: 'logs [app] [-t] [-n N] [-p PROCESS] [--proxy]',
      examples: ['paas logs myapp', 'paas logs myapp -t', 'paas logs myapp -n 500 -p worker', 'paas logs myapp --proxy -n 50'],
      app: 'required',
      access: 'app',
      maxArgs: 0,
      flags: {
        tail: { type: 'boolean', short: 't', description: 'keep following new lines until interrupted' },
        num: { type: 'string', short: 'n', description: 'lines of history per container (default 100)' },
        ps: { type: 'string', short: 'p', description: 'only this process type' },
        proxy: {
          type: 'boolean',
          description: "the proxy's access log of the app instead (time, method, path, status, duration, bytes, client, request id)",
        },
      },
      wantsTty: (args) => args.includes('-t') || args.includes('--tail'),
      async run({ app, flags, api, stdout, signal }) {
        const lines = parseLineCount(flags.num);
        if (flags.proxy === true) {
          if (typeof flags.ps === 'string')
            throw CommandErrors.usage('--proxy shows web requests: it takes no -p', 'logs [app] --proxy [-t] [-n N]');
          await showProxyLog(api, app, { lines, follow: flags.tail === true }, stdout, signal);
          return 0;
        }
        const process = typeof flags.ps === 'string' ? flags.ps : null;
        await api.logs.logs(app, { follow: flags.tail === true, lines, process }, stdout, signal);
        return 0;
      },
    },
  },
});
