import type { Writable } from 'node:stream';
import type { CommandIo } from '../contracts/command-io.js';
import { addonContainerName, addonVolumeName, ADDON_NAME_RE, databaseName, generatePassword } from './addon-naming.js';
import type { AddonType } from './addon-type.js';
import { addonType } from './addon-types.js';
import type { AddonDeps } from './addon-deps.js';
import { parseMemory } from '../deploy/resource-limits.js';
import { type AddonContainerState, DEFAULT_ADDON_MEMORY_BYTES } from './addon-containers.js';
import type { AddonLink, AddonRow, LastBackup } from '../state/addons-repository.js';
import { underLock } from '../deploy/app-locks.js';
import { AddonErrors } from './addon-errors.js';
import { AddonLinks } from './addon-links.js';
import { AddonLogins } from './addon-logins.js';

export interface AddonSummary {
  name: string;
  image: string;
  status: string;
  links: string[];
  createdAt: string;
}

export interface AddonInfo extends AddonSummary {
  type: string;
  version: string | null;
  container: string;
  volume: string;
  /** bytes used in the volume (null: not running) */
  size: number | null;
  host: string;
  port: number;
  /** each link, without its password; `login`: the app's own login, or the superuser's name for a link made before them */
  linkDetails: (Omit<AddonLink, 'password' | 'login'> & { login: string; superuser: boolean })[];
  /** the container's memory limit in bytes (0: none; null: not running) */
  memory: number | null;
  /** false: a container made before add-ons were hardened (a restart recreates it) */
  hardened: boolean | null;
  lastBackup: LastBackup | null;
  schedule: { cron: string; keep: number | null } | null;
  backupTarget: string | null;
  oldVolumes: string[];
}

const READY_TIMEOUT_MS = 120_000;

/** `--memory`: a size as resource:limit takes it, or `none` (0: no limit). */
const addonMemory = (value: string) => (value === 'none' ? 0 : parseMemory(value));
/** The memory limit of an add-on's container: the stored one, or the default. */
const memoryLimit = (row: Pick<AddonRow, 'memoryBytes'>) => row.memoryBytes ?? DEFAULT_ADDON_MEMORY_BYTES;

/** The lock of one add-on instance (`postgres:mydb`; app names have no colon). */
export const addonLockKey = (type: string, name: string) => `${type}:${name}`;

/**
 * Databases as add-ons: each instance its own container with a named volume, a generated
 * password and no published port, joined to the networks of the apps linked to it. A link sets
 * the app's variable (DATABASE_URL, REDIS_URL or an alias) through ConfigService, so it is a new
 * release rolled out health-gated like any config change.
 */
export class AddonService {
  private readonly links: AddonLinks;

  constructor(private readonly deps: AddonDeps) {
    this.links = new AddonLinks({ ...deps, service: this, logins: new AddonLogins({ containers: deps.containers, log: deps.log }) });
  }

  type(name: string): AddonType {
    const t = addonType(name);
    if (!t) throw AddonErrors.usage(`unknown add-on type '${name}'`);
    return t;
  }

  /** The add-on's row, or PAAS_ERR_ADDON_NOT_FOUND naming the command that lists them. */
  get(type: AddonType, name: string): AddonRow {
    const row = this.deps.addons.get(type.name, name);
    if (!row) throw AddonErrors.notFound(`${type.name} service '${name}' does not exist (see ${type.name}:list)`);
    return row;
  }

  withLock<T>(type: AddonType, name: string, what: string, out: Writable | null, signal: AbortSignal, fn: () => Promise<T>): Promise<T> {
    return underLock(this.deps.locks, addonLockKey(type.name, name), what, out, signal, fn);
  }

  async create(
    type: AddonType,
    name: string,
    image: string | undefined,
    out: Writable,
    signal: AbortSignal,
    memory?: string,
  ): Promise<AddonInfo> {
    if (!ADDON_NAME_RE.test(name))
      throw AddonErrors.badName(
        `invalid ${type.name} service name '${name}': use 1-48 characters, lowercase letters, digits and '-', starting with a letter`,
      );
    if (image !== undefined && !/^[a-zA-Z0-9][a-zA-Z0-9._/:@-]*$/.test(image)) throw AddonErrors.usage(`invalid image '${image}'`);
    const memoryBytes = memory === undefined ? null : addonMemory(memory);
    const d = this.deps;
    await this.withLock(type, name, `${type.name}:create`, out, signal, async () => {
      if (d.addons.get(type.name, name)) throw AddonErrors.exists(`${type.name} service '${name}' already exists`);
      const row = {
        type: type.name,
        name,
        image: image ?? d.defaultImage(type),
        container: addonContainerName(type.name, name),
        volume: addonVolumeName(type.name, name),
        user: type.defaultUser,
        password: generatePassword(),
        database: databaseName(name),
        memoryBytes,
      };
      // a volume left by an earlier instance holds data this password does not open: never adopted
      if (await d.containers.volumeExists(row.volume))
        throw AddonErrors.exists(
          `the volume ${row.volume} already exists (left by an earlier ${type.name} service ${name}?); remove it with docker volume rm or pick another name`,
        );
      out.write(`-----> Creating ${type.name} service ${name} (${row.image})\n`);
      await d.containers.ensureImage(row.image);
      await d.containers.createVolume(row.volume, type.name, name);
      try {
        await this.startContainer(type, row, [], signal);
      } catch (e) {
        await d.containers.remove(row.container).catch(() => {});
        await d.containers.removeVolume(row.volume).catch(() => {});
        throw e;
      }
      d.addons.create(row);
      d.log.info({ addon: name, type: type.name, image: row.image }, 'add-on created');
    });
    return this.info(type, name);
  }

  /** Creates and starts the container of `row` on `networks`, then waits until the database answers. */
  async startContainer(
    type: AddonType,
    row: Omit<AddonRow, 'createdAt' | 'schedule' | 'keep' | 'target' | 'lastBackup' | 'oldVolumes'>,
    networks: string[],
    signal: AbortSignal,
  ): Promise<void> {
    const creds = { user: row.user, password: row.password, database: row.database };
    await this.deps.containers.start({
      name: row.container,
      type: type.name,
      addon: row.name,
      image: row.image,
      env: type.env(creds),
      command: type.command(creds),
      volume: row.volume,
      volumePath: type.volumePath,
      networks,
      memoryBytes: memoryLimit(row),
    });
    await this.waitReady(type, row.container, signal);
  }

  /** Polls the type's probe until it passes; the container's last log lines when it never does. */
  async waitReady(type: AddonType, container: string, signal: AbortSignal): Promise<void> {
    const deadline = Date.now() + READY_TIMEOUT_MS;
    for (;;) {
      const state = await this.deps.containers.inspect(container);
      if (state?.running) {
        const r = await this.deps.containers.exec(container, type.probe, { signal }).catch(() => null);
        if (r?.exitCode === 0) return;
      }
      if (Date.now() > deadline || signal.aborted || (state && !state.running && state.status === 'exited')) {
        const tail = await this.logTail(container);
        throw AddonErrors.unhealthy(
          `${container} did not become ready (${state?.status ?? 'gone'})${tail ? `; last log lines:\n${tail}` : ''}`,
        );
      }
      await new Promise((r) => setTimeout(r, 300));
    }
  }

  private async logTail(container: string): Promise<string> {
    const lines: string[] = [];
    const state = await this.deps.containers.inspect(container);
    if (!state) return '';
    for await (const l of this.deps.containers.logs(state.id, { tail: 10 })) lines.push(`  ${l.line}`);
    return lines.join('\n');
  }

  async list(type: AddonType): Promise<AddonSummary[]> {
    const rows = this.deps.addons.list(type.name);
    return Promise.all(rows.map(async (r) => this.summary(r, await this.deps.containers.inspect(r.container))));
  }

  private summary(r: AddonRow, state: AddonContainerState | null): AddonSummary {
    return {
      name: r.name,
      image: r.image,
      status: state ? (state.running ? 'running' : state.status) : 'missing',
      links: this.deps.addons.links(r.type, r.name).map((l) => l.app),
      createdAt: r.createdAt,
    };
  }

  async info(type: AddonType, name: string): Promise<AddonInfo> {
    const r = this.get(type, name);
    const d = this.deps;
    const state = await d.containers.inspect(r.container);
    let version: string | null = null;
    let size: number | null = null;
    if (state?.running) {
      const v = await d.containers.exec(r.container, type.version).catch(() => null);
      version = v?.exitCode === 0 ? (v.output.split('\n')[0]?.trim() ?? null) : null;
      const du = await d.containers.exec(r.container, ['du', '-sb', type.volumePath]).catch(() => null);
      size = du?.exitCode === 0 ? Number(du.output.split(/\s/)[0]) : null;
    }
    return {
      ...this.summary(r, state),
      type: type.name,
      version,
      container: r.container,
      volume: r.volume,
      size,
      host: r.container,
      port: type.port,
      linkDetails: d.addons.links(type.name, name).map(({ password: _, login, ...l }) => ({
        ...l,
        login: login ?? r.user,
        superuser: type.appLogins !== null && login === null,
      })),
      memory: state ? state.memoryBytes : null,
      hardened: state ? state.hardened : null,
      lastBackup: r.lastBackup,
      schedule: r.schedule ? { cron: r.schedule, keep: r.keep } : null,
      backupTarget: r.target?.url ?? null,
      oldVolumes: r.oldVolumes,
    };
  }

  /** Makes every link's login on the running server of `row` (a new server, before a restore into it). */
  ensureLogins(type: AddonType, row: AddonRow): Promise<void> {
    return this.links.ensureLogins(type, row);
  }

  link(...args: Parameters<AddonLinks['link']>): ReturnType<AddonLinks['link']> {
    return this.links.link(...args);
  }

  unlink(...args: Parameters<AddonLinks['unlink']>): ReturnType<AddonLinks['unlink']> {
    return this.links.unlink(...args);
  }

  /** apps:destroy: see AddonLinks.detachApp. */
  detachApp(app: string): Promise<void> {
    return this.links.detachApp(app);
  }

  async destroy(
    type: AddonType,
    name: string,
    confirmation: { force: boolean; name: string | undefined },
    out: Writable,
    signal: AbortSignal,
  ): Promise<void> {
    const d = this.deps;
    const row = this.get(type, name);
    const links = d.addons.links(type.name, name);
    if (links.length)
      throw AddonErrors.linked(
        `${type.name} service '${name}' is linked to ${links.map((l) => l.app).join(', ')}; unlink first (${type.name}:unlink ${name} ${links[0]!.app})`,
      );
    if (!confirmation.force && confirmation.name !== name)
      throw AddonErrors.confirm(
        confirmation.name === undefined
          ? `this destroys ${type.name} service ${name} and its data (backups are kept); confirm with --force or '${type.name}:destroy ${name} ${name}'`
          : `confirmation '${confirmation.name}' does not match '${name}'; nothing was destroyed`,
      );
    await this.withLock(type, name, `${type.name}:destroy`, out, signal, async () => {
      if (d.addons.links(type.name, name).length)
        throw AddonErrors.linked(`${type.name} service '${name}' was linked meanwhile; nothing was destroyed`);
      await d.containers.remove(row.container);
      for (const v of [row.volume, ...row.oldVolumes]) await d.containers.removeVolume(v);
      d.addons.delete(type.name, name);
      d.log.info({ addon: name, type: type.name }, 'add-on destroyed');
    });
  }

  /**
   * Restarts the container; one made before add-ons were hardened, or whose memory limit is not
   * the stored one (`memory` stores a new one), is recreated on the same volume and networks.
   */
  async restart(type: AddonType, name: string, out: Writable, signal: AbortSignal, memory?: string): Promise<void> {
    const d = this.deps;
    const memoryBytes = memory === undefined ? undefined : addonMemory(memory);
    this.get(type, name);
    await this.withLock(type, name, `${type.name}:restart`, out, signal, async () => {
      if (memoryBytes !== undefined) d.addons.setMemory(type.name, name, memoryBytes);
      const row = this.get(type, name);
      const state = await d.containers.inspect(row.container);
      if (state?.hardened && state.memoryBytes === memoryLimit(row)) {
        await d.containers.restart(row.container);
        await this.waitReady(type, row.container, signal);
        return;
      }
      out.write(`-----> Recreating ${row.container} with the add-on hardening and memory limit (same volume)\n`);
      await d.containers.stop(row.container);
      await d.containers.remove(row.container);
      const networks = d.addons.links(type.name, name).map((l) => d.networks.appNetwork(l.app));
      await this.startContainer(type, row, networks, signal);
      d.log.info({ addon: name, type: type.name }, 'add-on container recreated');
    });
  }

  /** The container's log: the last `lines`, then new lines until the signal aborts when following. */
  async logs(type: AddonType, name: string, opts: { follow: boolean; lines: number }, out: Writable, signal: AbortSignal): Promise<void> {
    const row = this.get(type, name);
    const state = await this.deps.containers.inspect(row.container);
    if (!state) throw AddonErrors.notRunning(`${type.name} service '${name}' has no container (${row.container})`);
    const stream = this.deps.containers.logs(state.id, { follow: opts.follow, tail: opts.lines }, signal);
    try {
      for await (const l of stream) {
        if (signal.aborted) break;
        out.write(`${l.time ? `${l.time} ` : ''}${l.line}\n`);
      }
    } finally {
      stream.close();
    }
  }

  /** The running container of an add-on, or PAAS_ERR_ADDON_NOT_RUNNING. */
  async running(type: AddonType, name: string): Promise<AddonRow> {
    const row = this.get(type, name);
    const state = await this.deps.containers.inspect(row.container);
    if (!state?.running)
      throw AddonErrors.notRunning(
        `${type.name} service '${name}' is not running (${state?.status ?? 'no container'}); try ${type.name}:restart ${name}`,
      );
    return row;
  }

  /** `psql` / `redis-cli` in the add-on's container: with a pty when the SSH client has one, else stdin streamed (scripts). */
  async connect(type: AddonType, name: string, io: CommandIo): Promise<number> {
    const row = await this.running(type, name);
    const pty = io.pty;
    const r = await this.deps.containers.exec(row.container, type.connect, {
      stdin: io.stdin,
      stdout: io.stdout,
      stderr: io.stderr,
      signal: io.signal,
      // a client that reports no size (ssh -tt from a script) gets 80x24, or psql pages everything
      tty: pty
        ? { size: { cols: pty.cols || 80, rows: pty.rows || 24 }, onResize: (l) => pty.onResize((cols, rows) => l({ cols, rows })) }
        : null,
      ...(pty ? { env: [`TERM=${pty.term || 'xterm'}`] } : {}),
    });
    return r.exitCode;
  }
}
