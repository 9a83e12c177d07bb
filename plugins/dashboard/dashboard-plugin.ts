import { DashboardErrors } from '../../src/dashboard/dashboard-errors.js';
import { table, writeJson } from '../../src/plugin-host/output.js';
import { definePlugin } from '../../src/plugin-host/plugin.js';

export default definePlugin({
  name: 'dashboard',
  commands: {
    'dashboard:login': {
      summary: 'Print a one-time link (5 minutes, one use) that opens a web dashboard session for this key',
      usage: 'dashboard:login [PATH]',
      examples: ['paas dashboard:login', 'paas dashboard:login /apps/shop'],
      access: 'any',
      maxArgs: 1,
      run({ args, api, identity, stdout }) {
        stdout.write(`${api.dashboard.loginLink(identity, args[0] ?? '/')}\n`);
        return 0;
      },
    },
    'dashboard:sessions': {
      summary: 'List open dashboard sessions (an admin sees all, a developer its own)',
      usage: 'dashboard:sessions [--json]',
      access: 'any',
      maxArgs: 0,
      run({ api, identity, json, stdout }) {
        const list = api.dashboard.sessions(identity);
        if (json) writeJson(stdout, list);
        else if (list.length === 0) stdout.write('No dashboard sessions\n');
        else
          stdout.write(
            table(
              ['ID', 'KEY', 'CLIENT', 'STARTED', 'EXPIRES', 'LAST SEEN'],
              list.map((s) => [s.id, s.key, s.client, s.createdAt, s.expiresAt, s.lastSeen]),
            ),
          );
        return 0;
      },
    },
    'dashboard:revoke': {
      summary: 'End a dashboard session by its ID, or all of them with --all (a developer: only its own)',
      usage: 'dashboard:revoke <ID|--all>',
      examples: ['paas dashboard:revoke 3f2a9c01b7de', 'paas dashboard:revoke --all'],
      access: 'any',
      maxArgs: 1,
      flags: { all: { type: 'boolean', description: 'end every session this key may end' } },
      run({ args, flags, api, identity, stdout }) {
        const all = flags.all === true;
        if (all === (args[0] !== undefined))
          throw DashboardErrors.usage('give one session ID or --all (usage: dashboard:revoke <ID|--all>)');
        const ended = api.dashboard.revoke(identity, all ? { all: true } : { id: args[0]! });
        stdout.write(`Ended ${ended.length} dashboard session${ended.length === 1 ? '' : 's'}\n`);
        return 0;
      },
    },
    'dashboard:set': {
      summary: 'Set the dashboard host, turn it on or off, or set how long sessions last (default 12h)',
      usage: 'dashboard:set <host HOST|enabled on|off|session-ttl DURATION>',
      examples: ['paas dashboard:set host dash.example.com', 'paas dashboard:set enabled off', 'paas dashboard:set session-ttl 2h'],
      access: 'admin',
      minArgs: 2,
      maxArgs: 2,
      async run({ args, api, stdout }) {
        stdout.write(`${await api.dashboard.set(args[0]!, args[1]!)}\n`);
        return 0;
      },
    },
  },
});
