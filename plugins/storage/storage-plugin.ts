import { table, writeJson } from '../../src/plugin-host/output.js';
import { definePlugin } from '../../src/plugin-host/plugin.js';
const NEXT = (app: string) => `Applied at the next rollout (ps:restart ${app}, a deploy, a config change or a scale)\n`;

export default definePlugin({
  name: 'storage',
  commands: {
    'storage:mount': {
      summary: 'Mount a host dir into every container of an app; relative dirs live under <data-dir>/storage/<app>/',
      usage: 'storage:mount [app] <host-dir>:<container-dir>[:ro]',
      examples: ['paas storage:mount myapp uploads:/app/uploads', 'paas storage:mount myapp /srv/shared:/shared:ro   (admin keys only)'],
      app: 'required',
      access: 'app',
      minArgs: 1,
      maxArgs: 1,
      async run({ app, args, api, stdout, signal, identity }) {
        const m = await api.storage.mount(app, args[0]!, identity, { out: stdout, signal });
        if (!m.added) {
          stdout.write(`${m.host} is already mounted at ${m.container} in ${app}\n`);
          return 0;
        }
        stdout.write(`Mounted ${m.host} at ${m.container}${m.readOnly ? ' (read-only)' : ''} in ${app}\n${NEXT(app)}`);
        return 0;
      },
    },
    'storage:unmount': {
      summary: 'Remove a mount (by container dir or by host-dir:container-dir); the host dir and its files stay',
      usage: 'storage:unmount [app] <container-dir>|<host-dir>:<container-dir>',
      examples: ['paas storage:unmount myapp /app/uploads'],
      app: 'required',
      access: 'app',
      minArgs: 1,
      maxArgs: 1,
      async run({ app, args, api, stdout, signal }) {
        const m = await api.storage.unmount(app, args[0]!, { out: stdout, signal });
        stdout.write(`Unmounted ${m.host} from ${m.container} in ${app} (the host dir is kept)\n${NEXT(app)}`);
        return 0;
      },
    },
    'storage:list': {
      summary: "List an app's mounts",
      usage: 'storage:list [app] [--json]',
      examples: ['paas storage:list myapp'],
      app: 'required',
      access: 'app',
      maxArgs: 0,
      run({ app, api, stdout, json }) {
        const list = api.storage.list(app);
        if (json) {
          writeJson(stdout, list);
          return 0;
        }
        stdout.write(`=== ${app} storage (app dir: ${api.storage.dir(app)})\n`);
        stdout.write(
          list.length
            ? table(
                ['HOST', 'CONTAINER', 'MODE'],
                list.map((b) => [b.host, b.container, b.readOnly ? 'ro' : 'rw']),
              )
            : 'no mounts\n',
        );
        return 0;
      },
    },
  },
});
