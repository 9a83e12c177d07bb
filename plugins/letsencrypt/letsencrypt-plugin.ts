import { CommandErrors } from '../../src/plugin-host/command-errors.js';
import { keyValues, table, writeJson } from '../../src/plugin-host/output.js';
import { definePlugin } from '../../src/plugin-host/plugin.js';

export default definePlugin({
  name: 'letsencrypt',
  commands: {
    'letsencrypt:enable': {
      summary: "Get one certificate for all of an app's domains over ACME http-01, and renew it from then on",
      usage: 'letsencrypt:enable [app]',
      examples: ['paas letsencrypt:enable myapp'],
      app: 'required',
      access: 'app',
      maxArgs: 0,
      async run({ app, api, stdout, identity }) {
        await api.letsencrypt.enable(app, (line) => stdout.write(`${line}\n`), { by: 'command', admin: identity.role === 'admin' });
        stdout.write(`Let's Encrypt is enabled for ${app}\n`);
        return 0;
      },
    },
    'letsencrypt:disable': {
      summary: "Stop renewing and remove the app's Let's Encrypt certificate",
      usage: 'letsencrypt:disable [app]',
      examples: ['paas letsencrypt:disable myapp'],
      app: 'required',
      access: 'app',
      maxArgs: 0,
      async run({ app, api, stdout }) {
        await api.letsencrypt.disable(app);
        stdout.write(`Let's Encrypt is disabled for ${app}; its certificate was removed\n`);
        return 0;
      },
    },
    'letsencrypt:list': {
      summary: "List the apps with Let's Encrypt: names, expiry, next renewal, last error",
      usage: 'letsencrypt:list [--json]',
      examples: ['paas letsencrypt:list'],
      app: 'none',
      maxArgs: 0,
      run({ api, stdout, json }) {
        const list = api.letsencrypt.list();
        if (json) writeJson(stdout, list);
        else
          stdout.write(
            table(
              ['APP', 'NAMES', 'EXPIRES', 'NEXT RENEWAL', 'FAILURES', 'LAST ERROR'],
              list.map((e) => [e.app, e.names.join(',') || '-', e.notAfter, e.nextRenewal, e.failures, e.lastError]),
            ),
          );
        return 0;
      },
    },
    'letsencrypt:renew': {
      summary:
        "Renew an app's certificate now if it is due (--force: order a new one anyway; at most one forced order an hour and 5 certificates a week per app, admins excepted)",
      usage: 'letsencrypt:renew [app] [--force]',
      examples: ['paas letsencrypt:renew myapp', 'paas letsencrypt:renew myapp --force'],
      app: 'required',
      access: 'app',
      maxArgs: 0,
      flags: {
        force: { type: 'boolean', description: 'order a new certificate even when the current one is not due (at most once an hour)' },
      },
      async run({ app, flags, api, stdout, identity }) {
        await api.letsencrypt.renew(app, flags.force === true, (line) => stdout.write(`${line}\n`), {
          by: 'command',
          admin: identity.role === 'admin',
        });
        return 0;
      },
    },
    'letsencrypt:set': {
      summary: "Global Let's Encrypt settings: the account email, the ACME server (production, staging or a directory URL)",
      usage: 'letsencrypt:set --global email <addr> | server <production|staging|URL>',
      examples: ['paas letsencrypt:set --global email ops@example.com', 'paas letsencrypt:set --global server staging'],
      app: 'none',
      minArgs: 2,
      maxArgs: 2,
      flags: { global: { type: 'boolean', description: 'the settings are server-wide (required)' } },
      run({ args, flags, api, stdout }) {
        if (flags.global !== true)
          throw CommandErrors.usage(
            'letsencrypt settings are global: add --global',
            'letsencrypt:set --global email <addr> | server <URL>',
          );
        const value = api.letsencrypt.setGlobal(args[0]!, args[1]!);
        stdout.write(keyValues([[args[0]!, value]]));
        return 0;
      },
    },
  },
});
