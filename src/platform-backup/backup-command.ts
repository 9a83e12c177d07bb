import fs from 'node:fs';
import path from 'node:path';
import type { Writable } from 'node:stream';
import { type ParseArgsConfig, parseArgs } from 'node:util';
import type Dockerode from 'dockerode';
import type { DataPaths } from '../config/server-config.js';
import { isAppError, userMessage } from '../errors/app-error.js';
import type { Logger } from '../log/logger.js';
import type { State } from '../state/state.js';
import { parseIdentity, parseRecipient, type Recipient } from './backup-crypto.js';
import { envCredentials, fetchArchive, parseS3, type S3Options } from './backup-destination.js';
import { checkImageApps } from './platform-backup-create.js';
import { PlatformBackupErrors as E } from './platform-backup-errors.js';
import { PlatformBackupRestore } from './platform-backup-restore.js';
import { type BackupSchedule, type LastRun, nextRun, readJson, scheduleFiles, writeSchedule } from './platform-backup-schedule.js';
import { writeBackup } from './write-backup.js';

export interface BackupCommandContext {
  paths: DataPaths;
  state: State;
  docker: Dockerode;
  /** a paas command in the running daemon (null: none runs) */
  daemon(words: string[], out: Writable): Promise<number | null>;
  /** a paas command in this process (no daemon) */
  local(words: string[], out: Writable): Promise<number>;
  stdout: Writable;
  stderr: Writable;
  log: Logger;
}

export const BACKUP_USAGE = [
  'usage: paas admin backup create --to FILE|DIR|s3://bucket/prefix [--with-images[=APP,...]] [--with-addons] [--encrypt-to KEY.pub]',
  '       paas admin backup restore FILE|s3://bucket/key [--identity PRIVATE_KEY] [--force]',
  '       paas admin backup schedule ["CRON" --to DIR [--keep N] [--offsite s3://bucket/prefix] [create flags] | --off]',
  '       (s3: --endpoint URL --region R, credentials in AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY)',
].join('\n');

function parse<T extends ParseArgsConfig['options']>(args: string[], options: T) {
  try {
    return parseArgs({ args, options, allowPositionals: true, strict: true });
  } catch (e) {
    throw E.usage(`${(e as Error).message.split('\n')[0]} (see: paas admin backup help)`);
  }
}

export const UNENCRYPTED =
  'WARNING: this archive is NOT encrypted and holds every secret of the platform (config vars, SSH and TLS keys, database dumps): it is mode 600, keep it so, or use --encrypt-to KEY.pub';

const CREATE_FLAGS = {
  to: { type: 'string' },
  'with-images': { type: 'boolean' },
  'with-addons': { type: 'boolean' },
  'encrypt-to': { type: 'string' },
  endpoint: { type: 'string' },
  region: { type: 'string' },
} as const;

/** The flags of `create` (and `schedule`); `--with-images=APP,APP` narrows the saved images to those apps (the others rebuild from their repos). */
function parseCreateFlags<T extends ParseArgsConfig['options']>(rest: string[], more: T) {
  let imagesOf: string[] | null = null;
  const args = rest.map((a) => {
    if (!a.startsWith('--with-images=')) return a;
    imagesOf = a.slice('--with-images='.length).split(',').filter(Boolean);
    if (!imagesOf.length) throw E.usage('give --with-images=APP[,APP] or --with-images');
    return '--with-images';
  });
  return { ...parse(args, { ...CREATE_FLAGS, ...more }), imagesOf: imagesOf as string[] | null };
}

/** `backup schedule`: show; `backup schedule CRON --to DIR [...]`: set; `backup schedule --off`: remove. */
async function schedule(rest: string[], ctx: BackupCommandContext, line: (s: string) => void): Promise<number> {
  const files = scheduleFiles(path.dirname(ctx.paths.db));
  const { values, positionals, imagesOf } = parseCreateFlags(rest, {
    keep: { type: 'string' },
    offsite: { type: 'string' },
    off: { type: 'boolean' },
  });
  if (values.off) {
    if (positionals.length) throw E.usage('backup schedule --off takes no schedule');
    writeSchedule(files.schedule, null);
    line('platform backup schedule removed');
    return 0;
  }
  if (positionals.length === 0) {
    const s = readJson<BackupSchedule>(files.schedule);
    const last = readJson<LastRun>(files.last);
    if (!s) ctx.stdout.write('no platform backup schedule (set one: paas admin backup schedule "0 3 * * *" --to DIR)\n');
    else {
      ctx.stdout.write(`schedule: ${s.cron} (UTC), next ${nextRun(s.cron)?.toISOString() ?? 'never'}\n`);
      ctx.stdout.write(`to: ${s.to}${s.keep ? ` (keeps ${s.keep})` : ''}${s.offsite ? `, off-site ${s.offsite.url}` : ''}\n`);
      ctx.stdout.write(
        `images: ${s.withImages === true ? 'all' : s.withImages ? s.withImages.join(',') : 'no'}, add-ons: ${s.withAddons ? 'yes' : 'no'}, encrypted: ${s.encryptTo ? 'yes' : 'NO'}\n`,
      );
    }
    if (last)
      ctx.stdout.write(
        `last run: ${last.at} ${last.ok ? `ok ${last.file}${last.offsite ? ` and ${last.offsite}` : ''}` : `FAILED: ${last.error}`}\n`,
      );
    return 0;
  }
  if (positionals.length !== 1) throw E.usage('give the schedule as one quoted cron pattern, e.g. "0 3 * * *"');
  const cron = positionals[0]!;
  const next = nextRun(cron);
  const to = values.to === undefined ? null : path.resolve(String(values.to));
  if (!to || !fs.existsSync(to) || !fs.statSync(to).isDirectory())
    throw E.usage('a schedule writes into a folder: give --to DIR (an existing folder)');
  const keep = values.keep === undefined ? null : Number(values.keep);
  if (keep !== null && !(Number.isInteger(keep) && keep >= 1))
    throw E.usage(`invalid --keep '${values.keep}': a whole number of archives, 1 or more`);
  const encryptTo = values['encrypt-to'] === undefined ? null : readRecipientText(String(values['encrypt-to']));
  checkImageApps(ctx.state, imagesOf ?? false);
  let offsite: BackupSchedule['offsite'] = null;
  if (values.offsite !== undefined) {
    parseS3(String(values.offsite));
    offsite = {
      url: String(values.offsite),
      endpoint: values.endpoint as string | undefined,
      region: values.region as string | undefined,
      credentials: envCredentials(),
    };
  }
  writeSchedule(files.schedule, {
    cron,
    to,
    keep,
    withImages: values['with-images'] === true ? (imagesOf ?? true) : false,
    withAddons: values['with-addons'] === true,
    encryptTo,
    offsite,
  });
  line(
    `platform backup scheduled: ${cron} (UTC), next ${next?.toISOString() ?? 'never'}, into ${to}${offsite ? `, copied to ${offsite.url}` : ''}`,
  );
  if (!encryptTo) ctx.stderr.write(`${UNENCRYPTED}\n`);
  return 0;
}

/** The public key line of `--encrypt-to` (checked). */
function readRecipientText(spec: string): string {
  const text = fs.existsSync(spec) ? fs.readFileSync(spec, 'utf8') : spec;
  parseRecipient(text);
  return text.trim();
}

function readRecipient(spec: string): Recipient {
  const text = fs.existsSync(spec) ? fs.readFileSync(spec, 'utf8') : spec;
  return parseRecipient(text);
}

/** `paas admin backup …`: runs in the admin process on the host (root), never over SSH. */
export async function runBackupCommand(words: string[], ctx: BackupCommandContext): Promise<number> {
  const line = (s: string) => ctx.stdout.write(`-----> ${s}\n`);
  try {
    const [sub, ...rest] = words;
    if (sub === 'create') {
      const { values, positionals, imagesOf } = parseCreateFlags(rest, {});
      if (positionals.length) throw E.usage(`unexpected argument '${positionals[0]}' (see: paas admin backup help)`);
      if (!values.to) throw E.usage('give the destination: --to FILE|DIR|s3://bucket/prefix');
      const recipient = values['encrypt-to'] === undefined ? null : readRecipient(String(values['encrypt-to']));
      checkImageApps(ctx.state, imagesOf ?? false);
      const s3: S3Options = { endpoint: values.endpoint as string | undefined, region: values.region as string | undefined };
      const command = async (w: string[], out: Writable) => (await ctx.daemon(w, out)) ?? ctx.local(w, out);
      const withImages = values['with-images'] === true ? (imagesOf ?? true) : false;
      const r = await writeBackup(
        { paths: ctx.paths, state: ctx.state, docker: ctx.docker, command, progress: line, log: ctx.log },
        String(values.to),
        { withImages, withAddons: values['with-addons'] === true, recipient },
        s3,
      );
      line(`backup written to ${r.where}: ${r.entries} entries, ${(r.bytes / 1048576).toFixed(1)} MB, each entry's sha256 in its manifest`);
      if (recipient)
        line(
          `encrypted to ${recipient.type} ${recipient.fingerprint}: only its private key restores it (paas admin backup restore --identity KEY)`,
        );
      else ctx.stderr.write(`${UNENCRYPTED}\n`);
      return 0;
    }
    if (sub === 'schedule') return await schedule(rest, ctx, line);
    if (sub === 'restore') {
      const { values, positionals } = parse(rest, {
        force: { type: 'boolean' },
        identity: { type: 'string' },
        endpoint: { type: 'string' },
        region: { type: 'string' },
      });
      if (positionals.length !== 1)
        throw E.usage('give one archive: paas admin backup restore FILE|s3://bucket/key [--identity KEY] [--force]');
      let identity = null;
      if (values.identity !== undefined) {
        const f = String(values.identity);
        if (!fs.existsSync(f)) throw E.key(`no private key at ${f}`);
        identity = parseIdentity(fs.readFileSync(f, 'utf8'), process.env.PAAS_BACKUP_PASSPHRASE);
      }
      const s3: S3Options = { endpoint: values.endpoint as string | undefined, region: values.region as string | undefined };
      const tmp = fs.mkdtempSync(`${ctx.paths.run}/fetch-`);
      try {
        fs.chmodSync(tmp, 0o700);
        const file = await fetchArchive(positionals[0]!, tmp, s3);
        const restore = new PlatformBackupRestore({
          paths: ctx.paths,
          state: ctx.state,
          docker: ctx.docker,
          command: ctx.daemon,
          progress: line,
          log: ctx.log,
        });
        const r = await restore.restore(file, { force: values.force === true, identity });
        return r.failed.length ? 1 : 0;
      } finally {
        fs.rmSync(tmp, { recursive: true, force: true });
      }
    }
    if (sub === undefined || sub === 'help' || sub === '--help') {
      ctx.stdout.write(`${BACKUP_USAGE}\n`);
      return sub === undefined ? 2 : 0;
    }
    throw E.usage(`unknown backup command '${sub}' (create, restore, schedule)`);
  } catch (e) {
    if (!isAppError(e)) ctx.log.error({ err: e }, 'platform backup failed');
    ctx.stderr.write(`error: ${userMessage(e)}\n`);
    return isAppError(e) ? e.exitCode : 1;
  }
}
