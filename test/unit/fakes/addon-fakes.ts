// Fakes of the add-on services' ports: add-on containers kept in memory (a volume of files per
// container, execs scripted per command), and the add-on services wired over a real SQLite State,
// the real ConfigService and the fake runtime, as the composition root wires them.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Readable, Writable } from 'node:stream';
import type { AddonContainers, AddonContainerSpec, AddonContainerState } from '../../../src/addons/addon-containers.js';
import { AddonDataService } from '../../../src/addons/addon-data-service.js';
import { AddonService } from '../../../src/addons/addon-service.js';
import type { AddonType } from '../../../src/addons/addon-type.js';
import type { ExecIo, ExecResult } from '../../../src/runtime/container-exec.js';
import { silentLogger } from '../../../src/log/logger.js';
import { Captured } from './deploy-fakes.js';
import { configService, deploySetup, liveApp } from './services-setup.js';

/** One exec the fake was asked for; `stdin` is what was streamed in (read to the end). */
export interface ExecCall {
  container: string;
  argv: string[];
  stdin: string | null;
}

/** A scripted answer to an exec: undefined leaves it to the fake's default behaviour. */
export type ExecScript = (call: ExecCall, io: ExecIo) => Partial<ExecResult> | undefined | Promise<Partial<ExecResult> | undefined>;

const STAGE = ['sh', '-c', 'umask 077; cat > "$1"'];
const startsWith = (argv: string[], head: string[]) => head.every((a, i) => argv[i] === a);

async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(Buffer.from(c as Buffer));
  return Buffer.concat(chunks);
}

/**
 * AddonContainers in memory: each container a state and the files of its volume. By default a
 * staging `cat > file` stores stdin in `files`, `rm -f` deletes it, the type's dump writes `dump`,
 * its check passes on a file starting `VALID` (printing `checked`), and every other command exits 0.
 */
export class FakeAddonContainers {
  readonly calls: string[] = [];
  readonly execs: ExecCall[] = [];
  readonly specs: AddonContainerSpec[] = [];
  readonly volumes = new Set<string>();
  readonly states = new Map<string, AddonContainerState>();
  /** files in the containers' volumes by path */
  readonly files = new Map<string, Buffer>();
  /** what the type's dump writes */
  dump = Buffer.from('VALID dump of 3 tables');
  /** the verify output of a valid file */
  checked = '3';
  /** when set, start() throws this */
  failStart: Error | null = null;
  /** how start() leaves the container (e.g. exited at once) */
  startedState: Partial<AddonContainerState> = {};
  /** what runTool answers */
  tool: { exitCode: number; output: string } = { exitCode: 0, output: '' };
  /** the container log lines logs() yields */
  logLines: string[] = [];
  script: ExecScript = () => undefined;
  private next = 1;

  constructor(private readonly type: AddonType) {}

  as(): AddonContainers {
    return this as unknown as AddonContainers;
  }

  /** A container already running (an add-on created earlier). */
  running(name: string, over: Partial<AddonContainerState> = {}): void {
    this.states.set(name, {
      id: `id-${name}`,
      status: 'running',
      running: true,
      image: 'img',
      startedAt: '2026-12-01T00:00:00Z',
      networks: [],
      restartCount: 0,
      hardened: true,
      memoryBytes: 1024 ** 3,
      ...over,
    });
  }

  async ensureImage(image: string): Promise<void> {
    this.calls.push(`ensureImage ${image}`);
  }
  async volumeExists(name: string): Promise<boolean> {
    return this.volumes.has(name);
  }
  async createVolume(name: string): Promise<void> {
    this.calls.push(`createVolume ${name}`);
    this.volumes.add(name);
  }
  async removeVolume(name: string): Promise<void> {
    this.calls.push(`removeVolume ${name}`);
    this.volumes.delete(name);
  }
  async start(spec: AddonContainerSpec): Promise<AddonContainerState> {
    this.calls.push(`start ${spec.name}`);
    if (this.failStart) throw this.failStart;
    this.specs.push(spec);
    this.running(spec.name, {
      id: `c${this.next++}`,
      image: spec.image,
      networks: [...spec.networks],
      memoryBytes: spec.memoryBytes,
      ...this.startedState,
    });
    return this.states.get(spec.name)!;
  }
  async inspect(name: string): Promise<AddonContainerState | null> {
    const s = this.states.get(name);
    return s ? { ...s, networks: [...s.networks] } : null;
  }
  async connect(name: string, network: string): Promise<void> {
    this.calls.push(`connect ${name} ${network}`);
    this.states.get(name)?.networks.push(network);
  }
  async disconnect(name: string, network: string): Promise<void> {
    this.calls.push(`disconnect ${name} ${network}`);
    const s = this.states.get(name);
    if (s) s.networks = s.networks.filter((n) => n !== network);
  }
  async stop(name: string): Promise<void> {
    this.calls.push(`stop ${name}`);
    const s = this.states.get(name);
    if (s) Object.assign(s, { running: false, status: 'exited' });
  }
  async startExisting(name: string): Promise<void> {
    this.calls.push(`startExisting ${name}`);
    const s = this.states.get(name);
    if (s) Object.assign(s, { running: true, status: 'running' });
  }
  async restart(name: string): Promise<void> {
    this.calls.push(`restart ${name}`);
  }
  async remove(name: string): Promise<void> {
    this.calls.push(`remove ${name}`);
    this.states.delete(name);
  }
  async runTool(image: string, volume: string | null, _volumePath: string, argv: string[]): Promise<{ exitCode: number; output: string }> {
    this.calls.push(`runTool ${image} ${volume} ${argv.join(' ')}`);
    if (this.tool.exitCode === 0 && argv[0] === 'mv') {
      this.files.set(argv[3]!, this.files.get(argv[2]!) ?? Buffer.alloc(0));
      this.files.delete(argv[2]!);
    }
    return this.tool;
  }
  logs(): AsyncIterable<{ line: string; time: string | null }> & { close(): void } {
    const lines = this.logLines;
    return {
      async *[Symbol.asyncIterator]() {
        for (const line of lines) yield { line, time: null };
      },
      close: () => this.calls.push('logs closed'),
    };
  }

  async exec(container: string, argv: string[], io: ExecIo = {}): Promise<ExecResult> {
    const stdin = io.stdin ? await readAll(io.stdin as Readable) : null;
    const call = { container, argv, stdin: stdin?.toString() ?? null };
    this.execs.push(call);
    const scripted = await this.script(call, io);
    const r = scripted === undefined ? this.run(argv, stdin, io) : { exitCode: 0, stderr: '', output: '', ...scripted };
    // as execIn: stdout ended and flushed (a file) before the exec resolves, whatever the exit code
    const out = io.stdout as Writable | undefined;
    if (io.endStdout && out && !out.writableEnded) await new Promise<void>((resolve) => out.end(resolve));
    return r;
  }

  /** The default behaviour of a command (see the class comment). */
  private run(argv: string[], stdin: Buffer | null, io: ExecIo): ExecResult {
    const ok = { exitCode: 0, stderr: '', output: '' };
    if (startsWith(argv, STAGE) && stdin) this.files.set(argv[4]!, stdin);
    else if (argv[0] === 'rm') this.files.delete(argv[2]!);
    else if (argv === this.type.dump) io.stdout?.write(this.dump);
    else if (startsWith(argv, this.type.verify.slice(0, 3)))
      return this.files
        .get(argv[argv.length - 1]!)
        ?.toString()
        .startsWith('VALID')
        ? { ...ok, output: `${this.checked}\n` }
        : { exitCode: 1, stderr: 'pg_restore: error: input file is not a valid archive\n', output: '' };
    return ok;
  }

  /** The commands run in `container`, each argv joined (stdin left out). */
  ran(container: string): string[] {
    return this.execs.filter((e) => e.container === container).map((e) => e.argv.join(' '));
  }
}

/** What `networks` the add-on services are given: the apps' network names, each ensured recorded. */
export function fakeNetworks() {
  const ensured: string[] = [];
  return { ensured, ensureNetwork: async (app: string) => void ensured.push(app), appNetwork: (app: string) => `paas-net-${app}` };
}

/**
 * The add-on services over a temp-dir SQLite State: AddonService (with its links), AddonDataService
 * with backups under a temp dir, the real ConfigService over the fake runtime, and fake containers.
 */
export function addonSetup(type: AddonType) {
  const s = deploySetup();
  const config = configService(s);
  const containers = new FakeAddonContainers(type);
  const networks = fakeNetworks();
  const service = new AddonService({
    addons: s.state.addons,
    appExists: (app) => s.state.apps.exists(app),
    containers: containers.as(),
    networks,
    config,
    locks: s.locks,
    defaultImage: (t) => `${t.name}:test`,
    log: silentLogger(),
  });
  const backupsRoot = fs.mkdtempSync(path.join(os.tmpdir(), 'paas-addon-backups-'));
  const offsite: { file: string; fails: string | null; url: string | null } = { file: '', fails: null, url: null };
  const data = new AddonDataService({
    addons: s.state.addons,
    service,
    containers: containers.as(),
    backupsDir: (t, n) => path.join(backupsRoot, t, n, 'backups'),
    offsite: async (_row, file) => {
      offsite.file = file;
      if (offsite.fails) throw new Error(offsite.fails);
      return offsite.url;
    },
    log: silentLogger(),
  });
  return { ...s, config, containers, networks, service, data, backupsRoot, offsite, out: new Captured() };
}

/** An add-on row as stored, with a running container (created outside the service under test). */
export function storedAddon(s: ReturnType<typeof addonSetup>, type: AddonType, name: string): void {
  s.state.addons.create({
    type: type.name,
    name,
    image: `${type.name}:test`,
    container: `paas-${type.name}-${name}`,
    volume: `paas-${type.name}-${name}-data`,
    user: type.defaultUser,
    password: 'pw0',
    database: name,
    memoryBytes: null,
  });
  s.containers.running(`paas-${type.name}-${name}`);
}

/** The app every service test starts from (services-setup.ts). */
export { liveApp };
