import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { type Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type Dockerode from 'dockerode';
import type { DataPaths } from '../config/server-config.js';
import type { Logger } from '../log/logger.js';
import { schemaVersion } from '../state/database.js';
import type { State } from '../state/state.js';
import { packageVersion } from '../util/package-info.js';
import { BackupArchiveWriter } from './backup-archive-writer.js';
import type { Recipient } from './backup-crypto.js';
import { PlatformBackupErrors as E } from './platform-backup-errors.js';

/**
 * The folders of the data dir a backup holds (under `data/` in the archive). Not `certs/`: it
 * holds only this host's self-signed default and the proxy's copy of the TLS state; every custom
 * and Let's Encrypt certificate is in the SQLite state. Builds, logs and run state are not kept.
 */
export const DATA_FOLDERS = ['repos', 'acme', 'keys', 'storage'] as const;
export const META_NAME = 'paas-backup.json';
export const STATE_ENTRY = 'state/paas.db';

export interface BackupMeta {
  format: 1;
  createdAt: string;
  paasVersion: string;
  schema: number;
  /** the data dir it was made on: storage mounts under it move to the new data dir */
  dataDir: string;
  apps: { name: string; live: number | null; images: { version: number; ref: string; entry: string }[] }[];
  addons: { type: string; name: string; entry: string; backup: string }[];
}

export interface CreateOptions {
  /** true: every app's live and previous release images; a list: only those apps' */
  withImages: boolean | readonly string[];
  withAddons: boolean;
  recipient: Recipient | null;
}

export interface PlatformBackupCreateDeps {
  paths: DataPaths;
  state: State;
  docker: Pick<Dockerode, 'getImage'>;
  /** runs a paas command (in the daemon when it runs): the add-ons' own verified backups */
  command(words: string[], out: Writable): Promise<number>;
  progress(line: string): void;
  log: Logger;
}

const mb = (n: number) => `${(n / 1048576).toFixed(1)} MB`;

/** Every folder (parents first) and regular file under `dir`, relative paths, sorted; symlinks, sockets and fifos are skipped (counted). */
export function walkFiles(dir: string): { dirs: string[]; files: string[]; skipped: number } {
  const files: string[] = [];
  const dirs: string[] = [];
  let skipped = 0;
  const walk = (rel: string) => {
    for (const d of fs.readdirSync(path.join(dir, rel), { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      const r = rel ? `${rel}/${d.name}` : d.name;
      if (d.isDirectory()) {
        dirs.push(r);
        walk(r);
      } else if (d.isFile()) files.push(r);
      else skipped++;
    }
  };
  if (fs.existsSync(dir)) walk('');
  return { dirs, files, skipped };
}

/** `--with-images=APP,…` names only existing apps. */
export function checkImageApps(state: Pick<State, 'apps'>, withImages: CreateOptions['withImages']): void {
  if (!Array.isArray(withImages)) return;
  for (const app of withImages) if (!state.apps.exists(app)) throw E.usage(`--with-images names app '${app}', which does not exist`);
}

/**
 * `paas admin backup create`: one archive of the platform, written to `out` as it is made. The
 * SQLite state is an online backup (better-sqlite3 `db.backup()`, consistent while the daemon
 * writes); images and add-on dumps are spooled to a temp file under the data dir first (the tar
 * header needs their size), never held in memory.
 */
export class PlatformBackupCreate {
  constructor(private readonly deps: PlatformBackupCreateDeps) {}

  async write(out: Writable, opts: CreateOptions): Promise<{ entries: number; bytes: number }> {
    const d = this.deps;
    const tmp = path.join(d.paths.run, `backup-${randomBytes(4).toString('hex')}`);
    fs.mkdirSync(tmp, { recursive: true, mode: 0o700 });
    const writer = new BackupArchiveWriter(out, opts.recipient);
    try {
      const meta: BackupMeta = {
        format: 1,
        createdAt: new Date().toISOString(),
        paasVersion: packageVersion(),
        schema: schemaVersion(d.state.db),
        dataDir: path.dirname(path.resolve(d.paths.db)),
        apps: [],
        addons: [],
      };
      const apps = d.state.apps.list();
      checkImageApps(d.state, opts.withImages);
      const imagesOf = (app: string) => opts.withImages === true || (Array.isArray(opts.withImages) && opts.withImages.includes(app));
      const addonFiles = opts.withAddons ? await this.addonDumps(meta) : [];
      for (const app of apps) {
        const live = d.state.releases.current(app.name);
        const images: BackupMeta['apps'][number]['images'] = [];
        if (imagesOf(app.name) && live?.image) {
          images.push({ version: live.version, ref: live.image, entry: `images/${app.name}/v${live.version}.tar` });
          const prev = d.state.releases.list(app.name, 20).find((r) => r.version < live.version && r.image && r.status === 'superseded');
          if (prev?.image && prev.image !== live.image)
            images.push({ version: prev.version, ref: prev.image, entry: `images/${app.name}/v${prev.version}.tar` });
        }
        meta.apps.push({ name: app.name, live: live?.version ?? null, images });
      }
      await writer.addBuffer(META_NAME, Buffer.from(JSON.stringify(meta, null, 2)));

      const dbCopy = path.join(tmp, 'paas.db');
      await d.state.db.backup(dbCopy);
      const dbSize = await writer.addFile(STATE_ENTRY, dbCopy);
      fs.rmSync(dbCopy, { force: true });
      d.progress(`state: ${mb(dbSize)} (online SQLite backup, schema v${meta.schema}), ${meta.apps.length} app(s)`);

      for (const folder of DATA_FOLDERS) {
        const root = d.paths[folder];
        const { dirs, files, skipped } = walkFiles(root);
        let bytes = 0;
        for (const dir of dirs) await writer.addDir(`data/${folder}/${dir}`, path.join(root, dir));
        for (const f of files) bytes += await writer.addFile(`data/${folder}/${f}`, path.join(root, f));
        d.progress(`${folder}: ${files.length} file(s), ${mb(bytes)}${skipped ? ` (${skipped} symlink(s)/special file(s) skipped)` : ''}`);
      }

      for (const a of addonFiles) {
        const size = await writer.addFile(a.entry, a.file);
        d.progress(`add-on ${a.type} ${a.name}: verified dump ${a.backup}, ${mb(size)}`);
      }

      for (const app of meta.apps) {
        for (const img of app.images) {
          const spool = path.join(tmp, 'image.tar');
          const stream = (await d.docker.getImage(img.ref).get()) as unknown as Readable;
          await pipeline(stream, fs.createWriteStream(spool, { mode: 0o600 }));
          const size = await writer.addFile(img.entry, spool);
          fs.rmSync(spool, { force: true });
          d.progress(`image ${app.name} v${img.version} (${img.ref}): ${mb(size)}`);
        }
      }
      const manifest = await writer.finish();
      return { entries: manifest.entries.length, bytes: writer.bytesOut };
    } catch (e) {
      writer.abort(e as Error);
      if ((e as Error).name === 'AppError') throw e;
      throw E.createFailed(`backup failed: ${(e as Error).message}`, e);
    } finally {
      fs.rmSync(tmp, { recursive: true, force: true });
    }
  }

  /** Runs each add-on's own verified backup (`<type>:backup NAME`) and picks the file it wrote. */
  private async addonDumps(meta: BackupMeta): Promise<{ type: string; name: string; backup: string; entry: string; file: string }[]> {
    const d = this.deps;
    const out: { type: string; name: string; backup: string; entry: string; file: string }[] = [];
    for (const a of d.state.addons.list()) {
      const dir = d.paths.addonBackups(a.type, a.name);
      const before = new Set(fs.existsSync(dir) ? fs.readdirSync(dir) : []);
      const sink = collect();
      const code = await d.command([`${a.type}:backup`, a.name], sink.stream);
      const fresh = fs.existsSync(dir) ? fs.readdirSync(dir).filter((f) => !before.has(f) && !f.endsWith('.partial')) : [];
      if (code !== 0 || fresh.length !== 1)
        throw E.createFailed(`the backup of ${a.type} service ${a.name} failed: ${sink.text().trim().split('\n').pop() ?? `exit ${code}`}`);
      const file = fresh[0]!;
      const entry = `addons/${a.type}/${a.name}/${file}`;
      meta.addons.push({ type: a.type, name: a.name, entry, backup: file });
      out.push({ type: a.type, name: a.name, backup: file, entry, file: path.join(dir, file) });
    }
    return out;
  }
}

/** A Writable that keeps what a sub-command printed (for its last line in an error). */
export function collect(): { stream: Writable; text(): string } {
  const chunks: Buffer[] = [];
  const stream = new Writable({
    write(c: Buffer, _e: BufferEncoding, cb: () => void) {
      chunks.push(Buffer.from(c));
      cb();
    },
  });
  return { stream, text: () => Buffer.concat(chunks).toString() };
}
