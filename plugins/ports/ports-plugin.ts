import { keyValues, writeJson } from '../../src/plugin-host/output.js';
import { definePlugin } from '../../src/plugin-host/plugin.js';

export default definePlugin({
  name: 'ports',
  commands: {
    'ports:set': {
      summary: 'Choose the container port web traffic goes to (for images that EXPOSE several); `default` goes back to the default',
      usage: 'ports:set [app] <container-port|default>',
      examples: ['paas ports:set myapp 8080', 'paas ports:set myapp default'],
      app: 'required',
      access: 'app',
      minArgs: 1,
      maxArgs: 1,
      async run({ app, args, api, stdout, signal }) {
        const r = await api.ports.set(app, args[0]!, stdout, signal);
        if (r.release) stdout.write(`${app} routes to container port ${r.port}: v${r.release.version} is live\n`);
        else stdout.write(`${app} routes to container port ${r.port} (applies at the next deploy)\n`);
        return 0;
      },
    },
    'ports:report': {
      summary: 'Show the container port web traffic goes to, why, and the ports the image EXPOSEs',
      usage: 'ports:report [app] [--json]',
      examples: ['paas ports:report myapp'],
      app: 'required',
      access: 'app',
      maxArgs: 0,
      async run({ app, api, stdout, json }) {
        const r = await api.ports.report(app);
        if (json) writeJson(stdout, r);
        else
          stdout.write(
            `=== ${app} ports\n${keyValues([
              ['Port in use', r.inUse ?? 'none (not deployed yet)'],
              ['Chosen', r.chosen ?? 'default'],
              ['Why', r.reason],
              ['Image exposes', r.exposed.join(', ') || 'none'],
            ])}`,
          );
        return 0;
      },
    },
  },
});
