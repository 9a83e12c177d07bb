import type { KeyInfo } from '../../src/services/key-service.js';
import { table, writeJson } from '../../src/plugin-host/output.js';
import { definePlugin } from '../../src/plugin-host/plugin.js';
import { readStdin } from '../../src/plugin-host/read-stdin.js';

const apps = (list: KeyInfo) => (list.role === 'admin' ? '(all)' : list.apps.join(',') || '-');

export default definePlugin({
  name: 'ssh-keys',
  commands: {
    'ssh-keys:add': {
      summary: 'Add an SSH public key, read from stdin: an admin key, or a developer key reaching only the apps granted to it',
      usage: 'ssh-keys:add <name> [--role admin|developer] [--apps a,b] [--can-create] < key.pub',
      examples: [
        'paas ssh-keys:add alice < ~/.ssh/id_ed25519.pub',
        'paas ssh-keys:add bob --role developer --apps shop,blog < bob.pub',
        'paas ssh-keys:add ci --role developer --can-create < ci.pub',
      ],
      minArgs: 1,
      maxArgs: 1,
      flags: {
        role: { type: 'string', description: 'admin (default) or developer' },
        apps: { type: 'string', description: 'developer keys: the apps it may push to and operate, comma-separated' },
        'can-create': { type: 'boolean', description: 'developer keys: may create (and destroy its own) apps' },
      },
      async run({ args, flags, api, stdin, stdout, signal }) {
        const name = args[0]!;
        const role = typeof flags.role === 'string' ? flags.role : undefined;
        const appList = typeof flags.apps === 'string' ? flags.apps.split(',').filter(Boolean) : [];
        const key = api.keys.add(name, await readStdin(stdin, 16 * 1024, signal), {
          role,
          apps: appList,
          canCreate: flags['can-create'] === true,
        });
        const scope = key.role === 'developer' ? ` as developer: apps ${apps(key)}${key.canCreate ? ', may create apps' : ''}` : '';
        stdout.write(`Added key ${name} (${key.type} ${key.fingerprint})${scope}\n`);
        return 0;
      },
    },
    'ssh-keys:grant': {
      summary: 'Let a developer key push to and operate more apps',
      usage: 'ssh-keys:grant <name> <app>...',
      examples: ['paas ssh-keys:grant bob shop blog'],
      minArgs: 2,
      run({ args, api, stdout }) {
        const key = api.keys.grant(args[0]!, args.slice(1));
        stdout.write(`Key ${key.name} reaches: ${apps(key)}\n`);
        return 0;
      },
    },
    'ssh-keys:revoke': {
      summary: 'Take apps away from a developer key (its next command is checked; open commands finish)',
      usage: 'ssh-keys:revoke <name> <app>...',
      examples: ['paas ssh-keys:revoke bob blog'],
      minArgs: 2,
      run({ args, api, stdout }) {
        const key = api.keys.revoke(args[0]!, args.slice(1));
        stdout.write(`Key ${key.name} reaches: ${apps(key)}\n`);
        return 0;
      },
    },
    'ssh-keys:remove': {
      summary: 'Remove an SSH key and close its open connections (the last admin key cannot be removed)',
      usage: 'ssh-keys:remove <name>',
      minArgs: 1,
      maxArgs: 1,
      run({ args, api, stdout }) {
        api.keys.remove(args[0]!);
        stdout.write(`Removed key ${args[0]}\n`);
        return 0;
      },
    },
    'ssh-keys:list': {
      summary: 'List SSH keys with their role and apps',
      usage: 'ssh-keys:list [--json]',
      maxArgs: 0,
      run({ api, stdout, json }) {
        const rows = api.keys.list();
        if (json) writeJson(stdout, rows);
        else
          stdout.write(
            table(
              ['NAME', 'ROLE', 'APPS', 'CAN-CREATE', 'FINGERPRINT', 'ADDED'],
              rows.map((r) => [
                r.name,
                r.role,
                apps(r),
                r.role === 'admin' ? 'yes' : r.canCreate ? 'yes' : 'no',
                r.fingerprint,
                r.createdAt,
              ]),
            ),
          );
        return 0;
      },
    },
  },
});
