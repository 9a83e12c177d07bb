import { keyValues, writeJson } from '../../src/plugin-host/output.js';
import { definePlugin } from '../../src/plugin-host/plugin.js';

export default definePlugin({
  name: 'metrics',
  commands: {
    'metrics:set': {
      summary:
        'Move the Prometheus endpoint: listen ADDR:PORT, a unix socket path, or off (default 127.0.0.1:9150; never a public port unless you say so)',
      usage: 'metrics:set listen <ADDR:PORT|/path/to.sock|off>',
      examples: ['paas metrics:set listen 127.0.0.1:9150', 'paas metrics:set listen /run/paas-metrics.sock', 'paas metrics:set listen off'],
      access: 'admin',
      minArgs: 2,
      maxArgs: 2,
      async run({ args, api, stdout }) {
        const [key, value] = args as [string, string];
        if (key !== 'listen') return api.metrics.unknownSetting(key);
        const r = await api.metrics.setListen(value);
        stdout.write(
          r.listen === 'off'
            ? 'Metrics endpoint off\n'
            : `Metrics endpoint ${r.live ? 'listening' : 'set to listen'} on ${r.listen}${r.listen.startsWith('/') ? '' : ' (/metrics)'}\n`,
        );
        return 0;
      },
    },
    'metrics:report': {
      summary: 'Where the Prometheus endpoint is configured to listen and where it listens now',
      usage: 'metrics:report [--json]',
      access: 'admin',
      maxArgs: 0,
      run({ api, stdout, json }) {
        const r = api.metrics.report();
        if (json) writeJson(stdout, r);
        else
          stdout.write(
            keyValues([
              ['configured', r.configured],
              ['listening', r.listening ?? 'n/a (no server in this process)'],
            ]),
          );
        return 0;
      },
    },
  },
});
