import fs from 'node:fs';
import { AppError } from '../../src/errors/app-error.js';
import { MOUNTS_KEY, appStorageDir, parseMount, splitBind } from '../../src/deploy/storage-mounts.js';
import { table, writeJson } from '../../src/plugin-host/output.js';
import { definePlugin } from '../../src/plugin-host/plugin.js';
import type { Services } from '../../src/plugin-host/services.js';

const mounts = (services: Services, app: string): string[] => services.state.appSettings.get<string[]>(app, MOUNTS_KEY) ?? [];
const save = (services: Services, app: string, list: string[]) =>
  list.length ? services.state.appSettings.set(app, MOUNTS_KEY, list) : services.state.appSettings.unset(app, MOUNTS_KEY);
const NEXT = (app: string) => `Applied at the next rollout (ps:restart ${app}, a deploy, a config change or a scale)\n`;

export default definePlugin({
  name: 'storage',
  commands: {
    'storage:mount': {
      summary: 'Mount a host dir into every container of an app; relative dirs live under <data-dir>/storage/<app>/',
      usage: 'storage:mount [app] <host-dir>:<container-dir>[:ro]',
      examples: ['paas storage:mount myapp uploads:/app/uploads', 'paas storage:mount myapp /srv/shared:/shared:ro   (admin keys only)'],
      app: 'required',
      minArgs: 1,
      maxArgs: 1,
      run({ app, args, services, stdout, identity }) {
        const m = parseMount(args[0]!, { app, dataDir: services.dataDir, role: identity.role });
        const list = mounts(services, app);
        if (list.includes(m.bind)) {
          stdout.write(`${m.host} is already mounted at ${m.container} in ${app}\n`);
          return 0;
        }
        const clash = list.map(splitBind).find((b) => b.container === m.container);
        if (clash) {
          throw new AppError(
            'PAAS_ERR_STORAGE_TAKEN',
            `${m.container} is already mounted from ${clash.host}: storage:unmount ${app} ${m.container} first; nothing was changed`,
          );
        }
        if (m.inAppStorage) fs.mkdirSync(m.host, { recursive: true, mode: 0o755 });
        save(services, app, [...list, m.bind]);
        stdout.write(`Mounted ${m.host} at ${m.container}${m.readOnly ? ' (read-only)' : ''} in ${app}\n${NEXT(app)}`);
        return 0;
      },
    },
    'storage:unmount': {
      summary: 'Remove a mount (by container dir or by host-dir:container-dir); the host dir and its files stay',
      usage: 'storage:unmount [app] <container-dir>|<host-dir>:<container-dir>',
      examples: ['paas storage:unmount myapp /app/uploads'],
      app: 'required',
      minArgs: 1,
      maxArgs: 1,
      run({ app, args, services, stdout }) {
        const arg = args[0]!;
        const list = mounts(services, app);
        const container = (arg.includes(':') ? splitBind(arg).container : arg).replace(/\/+$/, '');
        const hit = list.find((b) => splitBind(b).container === container);
        if (!hit) throw new AppError('PAAS_ERR_STORAGE_NOT_MOUNTED', `nothing is mounted at ${container || arg} in ${app}`);
        save(
          services,
          app,
          list.filter((b) => b !== hit),
        );
        stdout.write(`Unmounted ${splitBind(hit).host} from ${container} in ${app} (the host dir is kept)\n${NEXT(app)}`);
        return 0;
      },
    },
    'storage:list': {
      summary: "List an app's mounts",
      usage: 'storage:list [app] [--json]',
      examples: ['paas storage:list myapp'],
      app: 'required',
      maxArgs: 0,
      run({ app, services, stdout, json }) {
        const list = mounts(services, app).map(splitBind);
        if (json) {
          writeJson(stdout, list);
          return 0;
        }
        stdout.write(`=== ${app} storage (app dir: ${appStorageDir(services.dataDir, app)})\n`);
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
