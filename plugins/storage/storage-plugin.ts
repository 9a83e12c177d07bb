import { CommandErrors } from '../../src/plugin-host/command-errors.js';
import { appliesAtNextRollout, table, writeJson } from '../../src/plugin-host/output.js';
import { definePlugin } from '../../src/plugin-host/plugin.js';

export default definePlugin({
  name: 'storage',
  commands: {
    'storage:mount': {
      summary: 'Mount a host dir into every container of an app; relative dirs live under <data-dir>/storage/<app>/',
      usage: 'storage:mount [app] <host-dir>:<container-dir>[:ro]',
      examples: [
        'paas storage:mount myapp uploads:/app/uploads',
        'paas storage:mount myapp /srv/data/shared:/shared:ro   (admin keys only, under a root allowed with storage:allow-root)',
      ],
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
        stdout.write(`Mounted ${m.host} at ${m.container}${m.readOnly ? ' (read-only)' : ''} in ${app}\n${appliesAtNextRollout(app)}`);
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
        stdout.write(`Unmounted ${m.host} from ${m.container} in ${app} (the host dir is kept)\n${appliesAtNextRollout(app)}`);
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
        stdout.write(`allowed roots (storage:allow-root): ${api.storage.allowedRoots().join(', ') || 'none'}\n`);
        return 0;
      },
    },
    'storage:allow-root': {
      summary:
        "Allow admin keys to mount host dirs under DIR (global; by default only the app's own storage dir); --remove takes a root back; no DIR lists them",
      usage: 'storage:allow-root [DIR] [--remove] [--json]',
      examples: ['paas storage:allow-root /srv/data', 'paas storage:allow-root --remove /srv/data', 'paas storage:allow-root'],
      app: 'none',
      access: 'admin',
      maxArgs: 1,
      flags: {
        remove: { type: 'boolean', description: 'remove DIR from the allowed roots (mounts under it are refused at the next rollout)' },
      },
      run({ args, flags, api, stdout, json }) {
        const dir = args[0];
        if (flags.remove && !dir) throw CommandErrors.usage('--remove needs the root to remove', 'storage:allow-root --remove DIR');
        if (dir && flags.remove)
          stdout.write(
            `Removed the allowed root ${api.storage.removeRoot(dir)}; mounts under it are refused at their app's next rollout\n`,
          );
        else if (dir) {
          const r = api.storage.allowRoot(dir);
          stdout.write(r.added ? `Admin keys may now mount host dirs under ${r.root}\n` : `${r.root} is already an allowed root\n`);
        }
        const roots = api.storage.allowedRoots();
        if (json) writeJson(stdout, roots);
        else if (!dir) stdout.write(roots.length ? `${roots.join('\n')}\n` : "no allowed roots (only each app's own storage dir)\n");
        return 0;
      },
    },
  },
});
