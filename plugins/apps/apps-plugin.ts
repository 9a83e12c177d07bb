import { AppError } from '../../src/errors/app-error.js';
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
      maxArgs: 0,
      async run({ app, services, stdout }) {
        await services.apps.create(app);
        await services.triggers.emit('app-created', { app });
        stdout.write(`Created ${app}: push with git remote add paas ssh://paas@<host>/${app}\n`);
        return 0;
      },
    },
    'apps:destroy': {
      summary: "Destroy an app, its containers, routes, images and data (needs --force or the app's name again)",
      usage: 'apps:destroy <app> [<app> | --force]',
      examples: ['paas apps:destroy myapp --force', 'paas apps:destroy myapp myapp'],
      app: 'required',
      maxArgs: 1,
      flags: { force: { type: 'boolean', short: 'f', description: 'do not ask for the app name' } },
      async run({ app, args, flags, services, stdout, signal }) {
        if (flags.force !== true && args[0] !== app) {
          throw new AppError(
            'PAAS_ERR_APP_CONFIRM',
            args[0] === undefined
              ? `this destroys ${app} and all its data; confirm with --force or 'apps:destroy ${app} ${app}'`
              : `confirmation '${args[0]}' does not match the app name '${app}'; nothing was destroyed`,
            { exitCode: 2 },
          );
        }
        await services.apps.destroy(app, stdout, signal);
        await services.triggers.emit('app-destroyed', { app });
        stdout.write(`Destroyed ${app}\n`);
        return 0;
      },
    },
    'apps:list': {
      summary: 'List apps',
      usage: 'apps:list [--json]',
      maxArgs: 0,
      run({ services, stdout, json }) {
        const live = services.state.releases.liveVersions();
        const apps = services.state.apps.list().map((a) => {
          const version = live.get(a.name);
          return { name: a.name, release: version === undefined ? null : `v${version}`, createdAt: a.created_at };
        });
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
      maxArgs: 0,
      async run({ app, services, stdout, json }) {
        const s = services.state;
        const live = s.releases.current(app);
        const host = `${app}.${services.domain()}`;
        const info = {
          name: app,
          createdAt: s.apps.get(app)?.created_at,
          url: `http://${host}`,
          release: live ? live.version : null,
          image: live?.image ?? null,
          commit: live?.commitSha ?? null,
          domains: [host, ...s.domains.list(app)],
          formation: s.formation.all(app),
          containers: await services.operations.containers(app),
        };
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
