import type { AddonType } from '../../src/addons/addon-type.js';
import { CommandErrors } from '../../src/plugin-host/command-errors.js';
import { keyValues, table, writeJson } from '../../src/plugin-host/output.js';
import type { CommandSpec } from '../../src/plugin-host/plugin.js';
import type { AddonInfo } from '../../src/addons/addon-service.js';

/** `12.3 MB` */
export function humanBytes(n: number | null): string {
  if (n === null || !Number.isFinite(n)) return '-';
  const units = ['B', 'kB', 'MB', 'GB', 'TB'];
  let i = 0;
  let v = n;
  while (v >= 1000 && i < units.length - 1) {
    v /= 1000;
    i++;
  }
  return `${i ? v.toFixed(1) : v} ${units[i]}`;
}

function infoText(t: AddonType, i: AddonInfo): string {
  const last = i.lastBackup
    ? i.lastBackup.ok
      ? `${i.lastBackup.at} ok (${i.lastBackup.name})`
      : `FAILED at ${i.lastBackup.at}: ${i.lastBackup.error}`
    : 'never';
  const superuser = i.linkDetails.filter((l) => l.superuser);
  const warnings = [
    ...(i.lastBackup && !i.lastBackup.ok ? [`WARNING: the last backup of ${i.name} failed`] : []),
    ...superuser.map((l) => {
      const own = t.appLogins?.name(l.app) ?? '';
      return `WARNING: ${l.app} was linked before per-app logins and holds the superuser's URL (it can run programs in the service and read every app's data); give it its own login: ${t.name}:unlink ${i.name} ${l.app}, then in ${t.name}:connect ${i.name}: CREATE ROLE ${own} NOLOGIN; CREATE SCHEMA ${own} AUTHORIZATION ${own}; for each of its tables ALTER TABLE public.T SET SCHEMA ${own}; ALTER TABLE ${own}.T OWNER TO ${own}; then ${t.name}:link ${i.name} ${l.app}`;
    }),
    ...(i.hardened === false
      ? [`WARNING: ${i.container} was made before add-ons were hardened; ${i.type}:restart ${i.name} recreates it`]
      : []),
  ];
  return `=== ${i.type} service ${i.name}\n${keyValues([
    ['image', `${i.image}${i.version ? ` (${i.version})` : ''}`],
    ['status', i.status],
    [
      'links',
      i.linkDetails.length
        ? i.linkDetails.map((l) => `${l.app} (${l.var}, login ${l.login}${l.superuser ? ', SUPERUSER' : ''})`).join(', ')
        : 'none',
    ],
    ['volume', `${i.volume} (${humanBytes(i.size)})`],
    ['host', `${i.host}:${i.port} (on the linked apps' networks only; no published port)`],
    ['memory limit', i.memory === null ? '-' : i.memory === 0 ? 'none' : humanBytes(i.memory)],
    ['last backup', last],
    ['backup schedule', i.schedule ? `${i.schedule.cron}${i.schedule.keep ? ` (keep ${i.schedule.keep})` : ''}` : 'none'],
    ['backup target', i.backupTarget ?? 'none'],
    ...(i.oldVolumes.length ? ([['kept volumes', i.oldVolumes.join(', ')]] as [string, string][]) : []),
    ['created', i.createdAt],
  ])}${warnings.map((w) => `${w}\n`).join('')}`;
}

/** The lifecycle commands of one add-on type: create, link, unlink, info, list, logs, destroy, restart, connect. */
export function lifecycleCommands(t: AddonType): Record<string, CommandSpec> {
  const n = t.name;
  return {
    [`${n}:create`]: {
      summary: `Create a ${n} service: its own container, named volume and generated password (the image is pinned now)`,
      usage: `${n}:create <name> [--image IMAGE:TAG] [--memory SIZE]`,
      examples: [`paas ${n}:create mydb`, `paas ${n}:create mydb --image ${t.defaultImage} --memory 2g`],
      minArgs: 1,
      maxArgs: 1,
      flags: {
        image: { type: 'string', description: `the image, pinned for this service (default ${t.defaultImage}, or $${t.imageEnv})` },
        memory: { type: 'string', description: "the container's memory limit (default 1g; e.g. 512m, 4g, or none)" },
      },
      async run({ args, flags, api, stdout, signal }) {
        const i = await api.addons.create(
          t,
          args[0]!,
          flags.image as string | undefined,
          stdout,
          signal,
          flags.memory as string | undefined,
        );
        stdout.write(
          `Created ${n} service ${i.name}: ${i.image}${i.version ? ` (${i.version})` : ''}; link it with ${n}:link ${i.name} APP\n`,
        );
        return 0;
      },
    },
    [`${n}:link`]: {
      summary: `Link a ${n} service to an app: sets ${t.urlVar} (or --alias VAR) as a new release, rolled out health-gated${t.appLogins ? "; the URL holds the app's own login, which owns only its own schema" : ''}`,
      usage: `${n}:link <name> <app> [--alias VAR]`,
      examples: [`paas ${n}:link mydb myapp`, `paas ${n}:link mydb myapp --alias SECOND_${t.urlVar}`],
      minArgs: 2,
      maxArgs: 2,
      flags: { alias: { type: 'string', description: `the variable to set instead of ${t.urlVar}, exactly as given` } },
      async run({ args, flags, api, stdout, signal }) {
        const r = await api.addons.link(t, args[0]!, args[1]!, flags.alias as string | undefined, stdout, signal);
        stdout.write(
          `Linked ${n} service ${args[0]} to ${args[1]} as ${r.variable}${r.rolledOut ? '' : ' (applied at its first deploy)'}\n`,
        );
        return 0;
      },
    },
    [`${n}:unlink`]: {
      summary: `Unlink a ${n} service from an app: removes its variable as a new release, rolled out health-gated${t.appLogins ? "; the app's login is disabled and its data kept for a later link" : ''}`,
      usage: `${n}:unlink <name> <app>`,
      examples: [`paas ${n}:unlink mydb myapp`],
      minArgs: 2,
      maxArgs: 2,
      async run({ args, api, stdout, signal }) {
        const r = await api.addons.unlink(t, args[0]!, args[1]!, stdout, signal);
        stdout.write(`Unlinked ${n} service ${args[0]} from ${args[1]} (${r.variable} removed)\n`);
        return 0;
      },
    },
    [`${n}:info`]: {
      summary: `Show a ${n} service: image and version, status, links, volume and size, last backup`,
      usage: `${n}:info <name> [--json]`,
      examples: [`paas ${n}:info mydb`],
      minArgs: 1,
      maxArgs: 1,
      async run({ args, api, stdout, json }) {
        const i = await api.addons.info(t, args[0]!);
        if (json) writeJson(stdout, i);
        else stdout.write(infoText(t, i));
        return 0;
      },
    },
    [`${n}:list`]: {
      summary: `List the ${n} services`,
      usage: `${n}:list [--json]`,
      examples: [`paas ${n}:list`],
      maxArgs: 0,
      async run({ api, stdout, json }) {
        const list = await api.addons.list(t);
        if (json) writeJson(stdout, list);
        else
          stdout.write(
            list.length
              ? table(
                  ['NAME', 'IMAGE', 'STATUS', 'LINKS'],
                  list.map((s) => [s.name, s.image, s.status, s.links.join(',') || '-']),
                )
              : `no ${n} services\n`,
          );
        return 0;
      },
    },
    [`${n}:logs`]: {
      summary: `Show a ${n} service's container log (-t follows)`,
      usage: `${n}:logs <name> [-t] [-n LINES]`,
      examples: [`paas ${n}:logs mydb -t`],
      minArgs: 1,
      maxArgs: 1,
      flags: {
        tail: { type: 'boolean', short: 't', description: 'follow the log' },
        num: { type: 'string', short: 'n', description: 'lines of history (default 100)' },
      },
      async run({ args, flags, api, stdout, signal }) {
        const lines = flags.num === undefined ? 100 : Number(flags.num);
        if (!Number.isInteger(lines) || lines < 0)
          throw CommandErrors.usage(`invalid line count '${flags.num}'`, `${n}:logs <name> [-t] [-n LINES]`);
        await api.addons.logs(t, args[0]!, { follow: flags.tail === true, lines }, stdout, signal);
        return 0;
      },
    },
    [`${n}:destroy`]: {
      summary: `Destroy a ${n} service and its volume (refused while linked; its backups are kept)`,
      usage: `${n}:destroy <name> [<name again>] [--force]`,
      examples: [`paas ${n}:destroy mydb --force`, `paas ${n}:destroy mydb mydb`],
      minArgs: 1,
      maxArgs: 2,
      flags: { force: { type: 'boolean', description: 'do not ask for the name again' } },
      async run({ args, flags, api, stdout, signal }) {
        await api.addons.destroy(t, args[0]!, { force: flags.force === true, name: args[1] }, stdout, signal);
        stdout.write(`Destroyed ${n} service ${args[0]} (backups kept under the data dir)\n`);
        return 0;
      },
    },
    [`${n}:restart`]: {
      summary: `Restart a ${n} service's container and wait until it answers; --memory sets its memory limit (the container is recreated on the same volume, as one made before add-ons were hardened is)`,
      usage: `${n}:restart <name> [--memory SIZE]`,
      examples: [`paas ${n}:restart mydb`, `paas ${n}:restart mydb --memory 4g`],
      minArgs: 1,
      maxArgs: 1,
      flags: { memory: { type: 'string', description: 'a new memory limit for the container (e.g. 512m, 4g, or none)' } },
      async run({ args, flags, api, stdout, signal }) {
        await api.addons.restart(t, args[0]!, stdout, signal, flags.memory as string | undefined);
        stdout.write(`Restarted ${n} service ${args[0]}\n`);
        return 0;
      },
    },
    [`${n}:connect`]: {
      summary: `Open ${t.clientName} on a ${n} service (a pty when the client has one; without one, stdin is the input)`,
      usage: `${n}:connect <name>`,
      examples: [`paas ${n}:connect mydb`, `ssh -p 2222 paas@host ${n}:connect mydb < script`],
      minArgs: 1,
      maxArgs: 1,
      wantsTty: true,
      run({ args, api, stdin, stdout, stderr, signal, pty }) {
        return api.addons.connect(t, args[0]!, { stdin, stdout, stderr, signal, pty });
      },
    },
  };
}
