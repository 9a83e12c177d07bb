import { AppError } from '../../src/errors/app-error.js';
import { table, writeJson } from '../../src/plugin-host/output.js';
import { definePlugin } from '../../src/plugin-host/plugin.js';
import { parsePublicKey } from '../../src/ssh/public-key.js';
import { readStdin } from '../../src/plugin-host/read-stdin.js';

const KEY_NAME = /^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$/;

export default definePlugin({
  name: 'ssh-keys',
  commands: {
    'ssh-keys:add': {
      summary: 'Add an admin SSH public key, read from stdin',
      usage: 'ssh-keys:add <name> < key.pub',
      examples: ['paas ssh-keys:add alice < ~/.ssh/id_ed25519.pub'],
      minArgs: 1,
      maxArgs: 1,
      async run({ args, services, stdin, stdout, signal }) {
        const name = args[0];
        if (!KEY_NAME.test(name))
          throw new AppError('PAAS_ERR_KEY_NAME', `invalid key name '${name}': use letters, digits, '.', '_', '@', '-' (max 64)`, {
            exitCode: 2,
          });
        const key = parsePublicKey(await readStdin(stdin, 16 * 1024, signal));
        const keys = services.state.keys;
        if (keys.byName(name)) throw new AppError('PAAS_ERR_KEY_EXISTS', `a key named '${name}' already exists; remove it first`);
        const dup = keys.byFingerprint(key.fingerprint);
        if (dup) throw new AppError('PAAS_ERR_KEY_EXISTS', `this key is already registered as '${dup.name}'`);
        keys.add(name, key.fingerprint, key.canonical, 'admin');
        stdout.write(`Added key ${name} (${key.type} ${key.fingerprint})\n`);
        return 0;
      },
    },
    'ssh-keys:remove': {
      summary: 'Remove an SSH key (the last admin key cannot be removed)',
      usage: 'ssh-keys:remove <name>',
      minArgs: 1,
      maxArgs: 1,
      run({ args, services, stdout }) {
        const keys = services.state.keys;
        const key = keys.byName(args[0]);
        if (!key) throw new AppError('PAAS_ERR_KEY_NOT_FOUND', `no key named '${args[0]}'`);
        services.state.transaction(() => {
          if (key.role === 'admin' && keys.countAdmins() <= 1) {
            throw new AppError('PAAS_ERR_KEY_LAST_ADMIN', `'${key.name}' is the last admin key; add another admin key before removing it`);
          }
          keys.remove(key.name);
        });
        stdout.write(`Removed key ${key.name}\n`);
        return 0;
      },
    },
    'ssh-keys:list': {
      summary: 'List SSH keys',
      usage: 'ssh-keys:list [--json]',
      maxArgs: 0,
      run({ services, stdout, json }) {
        const rows = services.state.keys
          .list()
          .map((k) => ({ name: k.name, role: k.role, fingerprint: k.fingerprint, createdAt: k.created_at }));
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
