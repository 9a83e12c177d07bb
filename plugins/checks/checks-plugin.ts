import { keyValues, writeJson } from '../../src/plugin-host/output.js';
import { definePlugin } from '../../src/plugin-host/plugin.js';

export default definePlugin({
  name: 'checks',
  commands: {
    'checks:set': {
      summary:
        'Set the health check used by every rollout (overrides app.json healthchecks); path=none checks the port only; wait=S keeps the previous release warm S seconds after the switch (default 2)',
      usage: 'checks:set [app] [path=/up] [timeout=S] [attempts=N] [wait=S]',
      examples: ['paas checks:set myapp path=/up timeout=5 attempts=3 wait=2', 'paas checks:set myapp path=none'],
      app: 'required',
      access: 'app',
      minArgs: 1,
      async run({ app, args, api, stdout, signal, json }) {
        const effective = await api.settings.setChecks(app, args, { out: stdout, signal });
        if (json) writeJson(stdout, effective);
        else
          stdout.write(
            `Health checks of ${app} (applies at the next rollout):\n${keyValues([
              ['path', effective.path ?? 'none (the port accepts connections)'],
              ['timeout', `${effective.timeout} s`],
              ['attempts', effective.attempts],
              ['wait', `${effective.wait} s (stability window: the previous release stays warm)`],
            ])}`,
          );
        return 0;
      },
    },
  },
});
