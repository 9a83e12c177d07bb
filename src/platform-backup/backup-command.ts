import fs from 'node:fs';
import type { Writable } from 'node:stream';
import { type ParseArgsConfig, parseArgs } from 'node:util';
import type Dockerode from 'dockerode';
import type { DataPaths } from '../config/server-config.js';
import { isAppError, userMessage } from '../errors/app-error.js';
import type { Logger } from '../log/logger.js';
import type { State } from '../state/state.js';
import { parseIdentity, parseRecipient, type Recipient } from './backup-crypto.js';
import { archiveName, fetchArchive, openDestination, type S3Options } from './backup-destination.js';
import { checkImageApps, PlatformBackupCreate } from './platform-backup-create.js';
import { PlatformBackupErrors as E } from './platform-backup-errors.js';
import { PlatformBackupRestore } from './platform-backup-restore.js';

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
  '       (s3: --endpoint URL --region R, credentials in AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY)',
].join('\n');

function parse<T extends ParseArgsConfig['options']>(args: string[], options: T) {
  try {
    return parseArgs({ args, options, allowPositionals: true, strict: true });
  } catch (e) {
    throw E.usage(`${(e as Error).message.split('\n')[0]} (see: paas admin backup help)`);
  }
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
      // `--with-images=APP,APP` narrows the saved images to those apps (the others rebuild from their repos)
      let imagesOf: string[] | null = null;
      const args = rest.map((a) => {
        if (!a.startsWith('--with-images=')) return a;
        imagesOf = a.slice('--with-images='.length).split(',').filter(Boolean);
        if (!imagesOf.length) throw E.usage('give --with-images=APP[,APP] or --with-images');
        return '--with-images';
      });
      const { values, positionals } = parse(args, {
        to: { type: 'string' },
        'with-images': { type: 'boolean' },
        'with-addons': { type: 'boolean' },
        'encrypt-to': { type: 'string' },
        endpoint: { type: 'string' },
        region: { type: 'string' },
      });
      if (positionals.length) throw E.usage(`unexpected argument '${positionals[0]}' (see: paas admin backup help)`);
      if (!values.to) throw E.usage('give the destination: --to FILE|DIR|s3://bucket/prefix');
      const recipient = values['encrypt-to'] === undefined ? null : readRecipient(String(values['encrypt-to']));
      checkImageApps(ctx.state, imagesOf ?? false);
      const s3: S3Options = { endpoint: values.endpoint as string | undefined, region: values.region as string | undefined };
      const dest = await openDestination(String(values.to), archiveName(new Date(), recipient !== null), s3);
      const command = async (w: string[], out: Writable) => (await ctx.daemon(w, out)) ?? ctx.local(w, out);
      const create = new PlatformBackupCreate({
        paths: ctx.paths,
        state: ctx.state,
        docker: ctx.docker,
        command,
        progress: line,
        log: ctx.log,
      });
      let r: { entries: number; bytes: number };
      try {
        const withImages = values['with-images'] === true ? (imagesOf ?? true) : false;
        r = await create.write(dest.out, { withImages, withAddons: values['with-addons'] === true, recipient });
        await dest.commit();
      } catch (e) {
        await dest.discard();
        throw e;
      }
      line(
        `backup written to ${dest.where}: ${r.entries} entries, ${(r.bytes / 1048576).toFixed(1)} MB, each entry's sha256 in its manifest`,
      );
      if (recipient)
        line(
          `encrypted to ${recipient.type} ${recipient.fingerprint}: only its private key restores it (paas admin backup restore --identity KEY)`,
        );
      else
        ctx.stderr.write(
          'WARNING: this archive is NOT encrypted and holds every secret of the platform (config vars, SSH and TLS keys, database dumps): it is mode 600, keep it so, or use --encrypt-to KEY.pub\n',
        );
      return 0;
    }
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
    throw E.usage(`unknown backup command '${sub}' (create, restore)`);
  } catch (e) {
    if (!isAppError(e)) ctx.log.error({ err: e }, 'platform backup failed');
    ctx.stderr.write(`error: ${userMessage(e)}\n`);
    return isAppError(e) ? e.exitCode : 1;
  }
}
