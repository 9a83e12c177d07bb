import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { Writable } from 'node:stream';
import type Dockerode from 'dockerode';
import type { DataPaths } from '../config/server-config.js';
import type { Logger } from '../log/logger.js';
import { type Db, openDatabase } from '../state/database.js';
import type { State } from '../state/state.js';
import { extractArchive } from './backup-archive-reader.js';
import type { Identity } from './backup-crypto.js';
import { type BackupMeta, collect, DATA_FOLDERS, META_NAME, STATE_ENTRY, walkFiles } from './platform-backup-create.js';
import { PlatformBackupErrors as E } from './platform-backup-errors.js';
import { copyState } from './state-copy.js';

export interface PlatformBackupRestoreDeps {
  paths: DataPaths;
  /** the live state (the daemon has the same database open) */
  state: State;
  docker: Pick<Dockerode, 'loadImage'>;
  /** runs a paas command in the running daemon; null when none runs */
  command(words: string[], out: Writable): Promise<number | null>;
  progress(line: string): void;
  log: Logger;
}

const secs = (t: number) => `${((Date.now() - t) / 1000).toFixed(1)} s`;

/**
 * Storage mounts are stored as absolute binds: those under the old data dir's `storage/` are
 * pointed at this one's (a move to another path). Returns how many apps had one.
 */
export function moveStorageMounts(db: Db, from: string, to: string): number {
  if (!from || from === to) return 0;
  const rows = db.prepare("SELECT app, value FROM app_settings WHERE key = 'mounts'").all() as { app: string; value: string }[];
  const old = `${from}/storage/`;
  let apps = 0;
  for (const r of rows) {
    const binds = JSON.parse(r.value) as string[];
    const next = binds.map((b) => (b.startsWith(old) ? `${to}/storage/${b.slice(old.length)}` : b));
    if (next.join('\n') === binds.join('\n')) continue;
    db.prepare("UPDATE app_settings SET value = ? WHERE app = ? AND key = 'mounts'").run(JSON.stringify(next), r.app);
    apps++;
  }
  return apps;
}

/**
 * `paas admin backup restore`: checks the whole archive into a staging folder before anything
 * changes, then puts the data dir's folders in place, replaces the state's rows in one
 * transaction, loads the saved images and has the running daemon bring each app live
 * (health-gated `ps:start`, or `ps:rebuild` from its repo without a saved image), then the add-ons
 * (recreated, then their verified dump restored) and the certificates (sent to the proxy).
 */
export class PlatformBackupRestore {
  constructor(private readonly deps: PlatformBackupRestoreDeps) {}

  /** Resolves to the apps and add-ons (`type name`) that did not come back; each has had its progress line. */
  async restore(file: string, opts: { force: boolean; identity: Identity | null }): Promise<{ failed: string[] }> {
    const d = this.deps;
    if (!fs.existsSync(file) || !fs.statSync(file).isFile()) throw E.usage(`no archive at ${file}`);
    const probe = await d.command(['version'], collect().stream);
    if (probe === null)
      throw E.noDaemon(
        'paas is not running on this data dir: start it first (systemctl start paas); a restore brings apps live through it',
      );
    const apps = d.state.apps.list();
    if (apps.length && !opts.force)
      throw E.notEmpty(
        `this host already has ${apps.length} app(s) (${apps
          .slice(0, 3)
          .map((a) => a.name)
          .join(', ')}${apps.length > 3 ? ', …' : ''}); restore onto a fresh host, or add --force to replace its state`,
      );
    const staging = path.join(path.dirname(d.paths.db), `restore-${randomBytes(4).toString('hex')}`);
    fs.mkdirSync(staging, { mode: 0o700 });
    try {
      const started = Date.now();
      const manifest = await extractArchive(file, staging, opts.identity);
      const meta = JSON.parse(fs.readFileSync(path.join(staging, META_NAME), 'utf8')) as BackupMeta;
      const dbFile = path.join(staging, STATE_ENTRY);
      if (meta.format !== 1 || !fs.existsSync(dbFile)) throw E.corrupt('the archive has no paas state');
      // migrated to this paas's schema (a newer one is refused here, before anything changed)
      const copy = openDatabase(dbFile);
      copy.prepare("UPDATE deploys SET status = 'failed', error = 'interrupted by the backup' WHERE status = 'running'").run();
      const moved = moveStorageMounts(copy, meta.dataDir, path.dirname(path.resolve(d.paths.db)));
      copy.close();
      d.progress(
        `verified ${manifest.entries.length} entries (sha256) in ${secs(started)}: backup of ${meta.createdAt}, paas ${meta.paasVersion}, ${meta.apps.length} app(s), ${meta.addons.length} add-on(s)`,
      );
      if (moved) d.progress(`storage mounts of ${moved} app(s) moved from ${meta.dataDir} to this data dir`);
      return await this.apply(staging, meta, started).catch((e: Error) => {
        throw E.restoreFailed(`${e.message} (the archive was applied in part: fix this and run the restore again with --force)`, e);
      });
    } finally {
      fs.rmSync(staging, { recursive: true, force: true });
    }
  }

  /** From here on the host changes: files, state, images, then apps, add-ons and certificates go live. */
  private async apply(staging: string, meta: BackupMeta, started: number): Promise<{ failed: string[] }> {
    const d = this.deps;
    this.placeFolders(staging);
    this.placeAddonDumps(staging, meta);
    const copied = copyState(d.state.db, path.join(staging, STATE_ENTRY));
    d.progress(`state: ${copied.rows} row(s) in ${copied.tables} table(s) restored`);
    const loaded = await this.loadImages(staging, meta);
    const failed = new Map<string, string>();
    let i = 0;
    for (const app of meta.apps) {
      i++;
      const r = await this.appLive(app.name, `${i}/${meta.apps.length}`, loaded.has(app.name));
      if (r) failed.set(app.name, r);
    }
    for (const a of meta.addons) {
      const r = await this.addonBack(a);
      if (r) failed.set(`${a.type} ${a.name}`, r);
    }
    // an app that needed its database to pass its health check gets a second chance now
    for (const name of [...failed.keys()].filter((n) => meta.apps.some((a) => a.name === n))) {
      const r = await this.appLive(name, 'retry', loaded.has(name));
      if (!r) failed.delete(name);
    }
    await this.certsBack();
    if (fs.existsSync(path.join(staging, 'data', 'keys')))
      d.progress('the SSH host key of the old host is in place: it is used from the next restart of paas (clients then see the old key)');
    for (const [name, why] of failed) d.progress(`FAILED: ${name}: ${why}`);
    const appsDown = meta.apps.filter((a) => failed.has(a.name)).length;
    d.progress(
      `restore done in ${secs(started)}: ${meta.apps.length - appsDown}/${meta.apps.length} app(s) live, ${meta.addons.length - (failed.size - appsDown)}/${meta.addons.length} add-on(s) back`,
    );
    return { failed: [...failed.keys()] };
  }

  /** Moves each restored file into the data dir (same file system: renames). */
  private placeFolders(staging: string): void {
    const d = this.deps;
    for (const folder of DATA_FOLDERS) {
      const from = path.join(staging, 'data', folder);
      const { dirs, files } = walkFiles(from);
      // folders first, with the permissions and owner they had (storage a container's user writes to)
      for (const dir of dirs) {
        const to = path.join(d.paths[folder], dir);
        fs.mkdirSync(to, { recursive: true, mode: 0o700 });
        const st = fs.statSync(path.join(from, dir));
        fs.chmodSync(to, st.mode & 0o7777);
        if (process.getuid?.() === 0) fs.chownSync(to, st.uid, st.gid);
      }
      for (const f of files) {
        const to = path.join(d.paths[folder], f);
        fs.mkdirSync(path.dirname(to), { recursive: true, mode: 0o700 });
        fs.renameSync(path.join(from, f), to);
      }
      if (files.length) d.progress(`${folder}: ${files.length} file(s) restored`);
    }
  }

  /** Each add-on's verified dump goes where `<type>:restore` finds it: `<data-dir>/addons/<type>/<name>/backups/`. */
  private placeAddonDumps(staging: string, meta: BackupMeta): void {
    for (const a of meta.addons) {
      const dir = this.deps.paths.addonBackups(a.type, a.name);
      fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
      fs.renameSync(path.join(staging, a.entry), path.join(dir, a.backup));
    }
  }

  private async loadImages(staging: string, meta: BackupMeta): Promise<Set<string>> {
    const loaded = new Set<string>();
    for (const app of meta.apps) {
      for (const img of app.images) {
        const t = Date.now();
        const res = (await this.deps.docker.loadImage(fs.createReadStream(path.join(staging, img.entry)), {
          quiet: true,
        })) as NodeJS.ReadableStream;
        let text = '';
        for await (const c of res) text += c.toString();
        const err = /"error(?:Detail)?":\s*"?([^"}]*)/.exec(text);
        if (err) throw E.restoreFailed(`the engine refused the image of ${app.name} v${img.version}: ${err[1]}`);
        if (img.version === app.live) loaded.add(app.name);
        this.deps.progress(`image ${app.name} v${img.version} loaded (${img.ref}, ${secs(t)})`);
      }
    }
    return loaded;
  }

  /** One app live through the daemon, health-gated; resolves to why it failed, or null. */
  private async appLive(app: string, n: string, fromImage: boolean): Promise<string | null> {
    const d = this.deps;
    const live = d.state.releases.current(app);
    if (!live) {
      d.progress(`app ${n} ${app}: no live release in the backup, nothing to start`);
      return null;
    }
    const t = Date.now();
    const out = collect();
    const how = fromImage ? 'from its saved image' : 'rebuilt from its repo';
    const code = await d.command(fromImage ? ['ps:start', app] : ['ps:rebuild', app], out.stream);
    if (code === 0) {
      const now = d.state.releases.current(app);
      d.progress(`app ${n} ${app}: live v${now?.version ?? live.version} ${how}, health-gated (${secs(t)})`);
      return null;
    }
    const why = out.text().trim().split('\n').pop() ?? `exit ${code}`;
    d.log.warn({ app, output: out.text().slice(-2000) }, 'restored app did not go live');
    d.progress(`app ${n} ${app}: NOT live (${how}): ${why}`);
    return why;
  }

  /** One add-on recreated and its dump restored; resolves to why it failed, or null. */
  private async addonBack(a: BackupMeta['addons'][number]): Promise<string | null> {
    const d = this.deps;
    const t = Date.now();
    const out = collect();
    const ok =
      (await d.command([`${a.type}:restart`, a.name], out.stream)) === 0 &&
      (await d.command([`${a.type}:restore`, a.name, a.backup], out.stream)) === 0;
    if (!ok) {
      const why = out.text().trim().split('\n').pop() ?? 'failed';
      d.progress(`add-on ${a.type} ${a.name}: NOT restored: ${why}`);
      return why;
    }
    d.progress(`add-on ${a.type} ${a.name}: recreated and its verified dump ${a.backup} restored (${secs(t)})`);
    return null;
  }

  /** Sends the proxy the restored certificates (certs:set with the stored options applies the TLS state). */
  private async certsBack(): Promise<void> {
    const d = this.deps;
    const apps = [...new Set(d.state.certificates.all().map((c) => c.app))];
    for (const app of apps) {
      const o = d.state.certificates.options(app);
      const out = collect();
      const code = await d.command(
        ['certs:set', app, `redirect=${o.redirect ? 'on' : 'off'}`, `hsts=${o.hsts ? 'on' : 'off'}`],
        out.stream,
      );
      if (code !== 0) throw E.restoreFailed(`the certificates of ${app} could not be applied: ${out.text().trim().split('\n').pop()}`);
    }
    if (apps.length) d.progress(`certificates of ${apps.length} app(s) sent to the proxy`);
  }
}
