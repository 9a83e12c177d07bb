import type { AddonType } from '../../src/addons/addon-type.js';
import { CommandErrors } from '../../src/plugin-host/command-errors.js';
import { table, writeJson } from '../../src/plugin-host/output.js';
import type { CommandSpec } from '../../src/plugin-host/plugin.js';
import { readStdin } from '../../src/plugin-host/read-stdin.js';
import { humanBytes } from './addon-commands.js';

/** The data commands of one add-on type: export, import, backup, backups, backup-schedule, restore, backup-target, upgrade. */
export function dataCommands(t: AddonType): Record<string, CommandSpec> {
  const n = t.name;
  const format = t.backup.gzip ? 'RDB' : 'pg_dump custom format';
  return {
    [`${n}:export`]: {
      summary: `Write a dump of a ${n} service to stdout (${format}), streamed`,
      usage: `${n}:export <name> > dump`,
      examples: [`ssh -p 2222 paas@host ${n}:export mydb > mydb.dump`],
      minArgs: 1,
      maxArgs: 1,
      async run({ args, api, stdout, signal }) {
        await api.addonData.exportTo(t, args[0]!, stdout, signal);
        return 0;
      },
    },
    [`${n}:import`]: {
      summary: `Replace a ${n} service's data with a dump on stdin (as ${n}:export writes it); a bad dump changes nothing`,
      usage: `${n}:import <name> < dump`,
      examples: [`ssh -p 2222 paas@host ${n}:import mydb < mydb.dump`],
      minArgs: 1,
      maxArgs: 1,
      async run({ args, api, stdin, stdout, signal }) {
        const held = await api.addonData.importFrom(t, args[0]!, stdin, stdout, signal);
        stdout.write(`Imported into ${n} service ${args[0]}${held ? ` (${held}${/^\d+$/.test(held) ? ' objects' : ''})` : ''}\n`);
        return 0;
      },
    },
    [`${n}:backup`]: {
      summary: `Write a compressed backup under the data dir and verify it; a failure is loud here, in ${n}:info and in the log`,
      usage: `${n}:backup <name>`,
      examples: [`paas ${n}:backup mydb`],
      minArgs: 1,
      maxArgs: 1,
      async run({ args, api, stdout, signal }) {
        const b = await api.addonData.backup(t, args[0]!, signal);
        stdout.write(
          `Backup ${b.name} of ${n} service ${args[0]}: ${humanBytes(b.size)}, verified (${b.held}${/^\d+$/.test(b.held) ? ' objects' : ''})${b.offsite ? `, copied to ${b.offsite}` : ''}\n`,
        );
        return 0;
      },
    },
    [`${n}:backups`]: {
      summary: `List a ${n} service's backups, newest last, by the name ${n}:restore takes`,
      usage: `${n}:backups <name> [--json]`,
      examples: [`paas ${n}:backups mydb`],
      minArgs: 1,
      maxArgs: 1,
      run({ args, api, stdout, json }) {
        const list = api.addonData.backups(t, args[0]!);
        if (json) writeJson(stdout, list);
        else
          stdout.write(
            list.length
              ? table(
                  ['NAME', 'SIZE', 'CREATED'],
                  list.map((b) => [b.name, humanBytes(b.size), b.createdAt]),
                )
              : `no backups of ${args[0]}\n`,
          );
        return 0;
      },
    },
    [`${n}:backup-schedule`]: {
      summary: `Back up a ${n} service on a cron schedule, run by the control plane (kept across restarts); --keep N prunes older ones`,
      usage: `${n}:backup-schedule <name> ["MIN HOUR DOM MON DOW"] [--keep N] [--remove]`,
      examples: [
        `paas ${n}:backup-schedule mydb "0 3 * * *" --keep 7`,
        `paas ${n}:backup-schedule mydb --remove`,
        `paas ${n}:backup-schedule mydb`,
      ],
      minArgs: 1,
      maxArgs: 2,
      flags: {
        keep: { type: 'string', description: 'keep only the newest N backups after each scheduled one' },
        remove: { type: 'boolean', description: 'stop backing up on a schedule (the backups stay)' },
      },
      run({ args, flags, api, stdout }) {
        const [name, cron] = args as [string, string | undefined];
        if (flags.remove) {
          if (cron) throw CommandErrors.usage('--remove takes no schedule', `${n}:backup-schedule <name> --remove`);
          api.addonSchedule.set(t, name, null, null);
          stdout.write(`No scheduled backups of ${n} service ${name} any more (its backups stay)\n`);
          return 0;
        }
        if (!cron) {
          const s = api.addonSchedule.get(t, name);
          stdout.write(
            s ? `${s.cron}${s.keep ? ` (keep ${s.keep})` : ''}; next run ${s.next ?? '-'}\n` : `no backup schedule for ${name}\n`,
          );
          return 0;
        }
        const keep = flags.keep === undefined ? null : Number(flags.keep);
        if (keep !== null && (!Number.isInteger(keep) || keep < 1))
          throw CommandErrors.usage(
            `--keep takes a whole number of backups, at least 1 (got '${flags.keep}')`,
            `${n}:backup-schedule <name> "CRON" --keep N`,
          );
        const s = api.addonSchedule.set(t, name, cron, keep);
        stdout.write(`Backing up ${n} service ${name} at "${cron}"${keep ? `, keeping the newest ${keep}` : ''}; next run ${s.next}\n`);
        return 0;
      },
    },
    [`${n}:restore`]: {
      summary: `Restore a backup (a name from ${n}:backups) into a ${n} service; it is checked before the data is touched`,
      usage: `${n}:restore <name> <backup>`,
      examples: [`paas ${n}:restore mydb 2026-11-30T03-00-00-000Z`],
      minArgs: 2,
      maxArgs: 2,
      async run({ args, api, stdout, signal }) {
        await api.addonData.restore(t, args[0]!, args[1]!, stdout, signal);
        stdout.write(`Restored ${args[1]} into ${n} service ${args[0]}\n`);
        return 0;
      },
    },
    [`${n}:backup-target`]: {
      summary: `Copy every backup of a ${n} service to an S3-compatible store (credentials on stdin: ACCESS_KEY_ID SECRET_ACCESS_KEY)`,
      usage: `${n}:backup-target <name> [s3://bucket/prefix --endpoint URL [--region R]] [--remove]`,
      examples: [
        `echo "$AWS_ACCESS_KEY_ID $AWS_SECRET_ACCESS_KEY" | paas ${n}:backup-target mydb s3://backups/mydb --endpoint https://s3.example.com`,
      ],
      minArgs: 1,
      maxArgs: 2,
      flags: {
        endpoint: { type: 'string', description: 'the S3 endpoint URL' },
        region: { type: 'string', description: 'the region (default us-east-1)' },
        remove: { type: 'boolean', description: 'stop copying backups off-site' },
      },
      async run({ args, flags, api, stdin, stdout, signal }) {
        const [name, url] = args as [string, string | undefined];
        if (flags.remove) {
          api.addonTargets.remove(t, name);
          stdout.write(`Backups of ${n} service ${name} are no longer copied off-site\n`);
          return 0;
        }
        if (!url) {
          stdout.write(`${api.addonTargets.describe(t, name) ?? 'none'}\n`);
          return 0;
        }
        const credentials = await readStdin(stdin, 4096, signal);
        const target = await api.addonTargets.set(
          t,
          name,
          { url, endpoint: flags.endpoint as string | undefined, region: flags.region as string | undefined, credentials },
          signal,
        );
        stdout.write(`Backups of ${n} service ${name} are copied to ${target} (checked: the bucket answered)\n`);
        return 0;
      },
    },
  };
}
