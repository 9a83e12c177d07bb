import { CHECKS_KEY } from '../../src/deploy/setting-keys.js';
import { parseChecksArgs } from '../../src/deploy/operation-inputs.js';
import { keyValues, writeJson } from '../../src/plugin-host/output.js';
import { definePlugin } from '../../src/plugin-host/plugin.js';

export default definePlugin({
  name: 'checks',
  commands: {
    'checks:set': {
      summary: 'Set the health check used by every rollout (overrides app.json healthchecks); path=none checks the port only',
      usage: 'checks:set [app] [path=/up] [timeout=S] [attempts=N] [wait=S]',
      examples: ['paas checks:set myapp path=/up timeout=5 attempts=3 wait=2', 'paas checks:set myapp path=none'],
      app: 'required',
      minArgs: 1,
      run({ app, args, services, stdout, json }) {
        const patch = parseChecksArgs(args);
        const current = services.state.appSettings.get<Record<string, unknown>>(app, CHECKS_KEY) ?? {};
        services.state.appSettings.set(app, CHECKS_KEY, { ...current, ...patch });
        const effective = services.operations.checks(app);
        if (json) writeJson(stdout, effective);
        else
          stdout.write(
            `Health checks of ${app} (applies at the next rollout):\n${keyValues([
              ['path', effective.path ?? 'none (port and uptime only)'],
              ['timeout', `${effective.timeout} s`],
              ['attempts', effective.attempts],
              ['wait', `${effective.wait} s`],
            ])}`,
          );
        return 0;
      },
    },
  },
});
