import { table, writeJson } from '../../src/plugin-host/output.js';
import { definePlugin } from '../../src/plugin-host/plugin.js';
import { readStdin } from '../../src/plugin-host/read-stdin.js';

export default definePlugin({
  name: 'ssh-keys',
  commands: {
    'ssh-keys:add': {
      summary: 'Add an admin SSH public key, read from stdin',
      usage: 'ssh-keys:add <name> < key.pub',
      examples: ['paas ssh-keys:add alice < ~/.ssh/id_ed25519.pub'],
      minArgs: 1,
      maxArgs: 1,
      async run({ args, api, stdin, stdout, signal }) {
        const name = args[0]!;
        const key = api.keys.add(name, await readStdin(stdin, 16 * 1024, signal));
        stdout.write(`Added key ${name} (${key.type} ${key.fingerprint})\n`);
        return 0;
      },
    },
    'ssh-keys:remove': {
      summary: 'Remove an SSH key (the last admin key cannot be removed)',
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
      summary: 'List SSH keys',
      usage: 'ssh-keys:list [--json]',
      maxArgs: 0,
      run({ api, stdout, json }) {
        const rows = api.keys.list().map((k) => ({ name: k.name, role: k.role, fingerprint: k.fingerprint, createdAt: k.created_at }));
        if (json) writeJson(stdout, rows);
        else
          stdout.write(
            table(
              ['NAME', 'ROLE', 'FINGERPRINT', 'ADDED'],
              rows.map((r) => [r.name, r.role, r.fingerprint, r.createdAt]),
            ),
          );
        return 0;
      },
    },
  },
});
