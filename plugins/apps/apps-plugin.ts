import { keyValues, table, writeJson } from '../../src/plugin-host/output.js';
import { definePlugin } from '../../src/plugin-host/plugin.js';

export default definePlugin({
  name: 'apps',
  commands: {
    'apps:create': {
      summary: 'Create an app (a push to a new app name also creates it)',
      usage: 'apps:create <app>',
      examples: ['paas apps:create myapp'],
      app: 'new',
      access: 'create',
      maxArgs: 0,
      async run({ app, api, stdout, identity }) {
        await api.apps.create(app, identity);
        stdout.write(`Created ${app}: push with git remote add paas ssh://paas@<host>/${app}\n`);
        return 0;
      },
    },
    'apps:destroy': {
      summary: "Destroy an app, its containers, routes, images and data (needs --force or the app's name again)",
      usage: 'apps:destroy <app> [<app> | --force]',
      examples: ['paas apps:destroy myapp --force', 'paas apps:destroy myapp myapp'],
      app: 'required',
      access: 'create',
      maxArgs: 1,
      flags: { force: { type: 'boolean', short: 'f', description: 'do not ask for the app name' } },
      async run({ app, args, flags, api, stdout, signal }) {
        await api.apps.destroy(app, { force: flags.force === true, name: args[0] }, stdout, signal);
        stdout.write(`Destroyed ${app}\n`);
        return 0;
      },
    },
    'apps:list': {
      summary: 'List apps',
      usage: 'apps:list [--json]',
      access: 'any',
      maxArgs: 0,
      run({ api, stdout, json, identity }) {
        const apps = api.apps.list(identity);
        if (json) writeJson(stdout, apps);
        else if (apps.length === 0) stdout.write('No apps yet. Push one: git push paas main\n');
        else
          stdout.write(
            table(
              ['NAME', 'RELEASE', 'CREATED'],
              apps.map((a) => [a.name, a.release, a.createdAt]),
            ),
          );
        return 0;
      },
    },
    'apps:info': {
      summary: "Show an app's release, URL, domains, formation and containers",
      usage: 'apps:info <app> [--json]',
      app: 'required',
      access: 'app',
      maxArgs: 0,
      async run({ app, api, stdout, json }) {
        const info = await api.apps.info(app);
        if (json) {
          writeJson(stdout, info);
          return 0;
        }
        stdout.write(
          keyValues([
            ['App', info.name],
            ['Created', info.createdAt],
            ['URL', info.url],
            ['Release', info.release === null ? 'none (not deployed yet)' : `v${info.release}`],
            ['Image', info.image],
            ['Commit', info.commit],
            ['Domains', info.domains.join(', ')],
            [
              'Formation',
              Object.entries(info.formation)
                .map(([p, n]) => `${p}=${n}`)
                .join(' ') || '-',
            ],
            ['Containers', info.containers.length],
          ]),
        );
        for (const c of info.containers) stdout.write(`  ${c.name}  ${c.state}  ${c.ip ?? '-'}\n`);
        return 0;
      },
    },
  },
});
