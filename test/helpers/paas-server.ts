import { type ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execa, type Options } from 'execa';
import { cleanupByLabel, runFilter, testLabels } from './docker.js';

const ROOT = path.resolve(import.meta.dirname, '..', '..');
/** PAAS_USE_DIST=1 runs the compiled dist/ (as installed) instead of the sources through tsx */
const USE_DIST = process.env.PAAS_USE_DIST === '1';
export const MAIN = USE_DIST ? path.join(ROOT, 'dist', 'src', 'main.js') : path.join(ROOT, 'src', 'main.ts');
/** tsx by absolute URL: child processes (hooks, the proxy) run with other working directories */
export const TSX = import.meta.resolve('tsx');
const NODE_ARGS = USE_DIST ? [] : ['--import', TSX];

export interface Ports {
  ssh: number;
  http: number;
  https: number;
}

export interface SshResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}

/**
 * The known-hosts file the test clients name: a path under /dev/null, which can never exist, so ssh
 * reads no host key and cannot store one. `/dev/null` itself is not safe: where it is a plain file
 * (as in some sandboxes, CI's included), ssh appends every host key to it, and a later server on a
 * reused port then meets a "REMOTE HOST IDENTIFICATION HAS CHANGED" warning on stderr.
 */
export const NO_KNOWN_HOSTS = '/dev/null/known_hosts';

/** A throwaway SSH key pair made by ssh-keygen. */
export async function makeKey(dir: string, name: string): Promise<{ priv: string; pub: string }> {
  const priv = path.join(dir, name);
  await execa('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', name, '-f', priv]);
  return { priv, pub: `${priv}.pub` };
}

export function sshOptions(key: string, port: number): string[] {
  return [
    '-i',
    key,
    '-p',
    String(port),
    '-o',
    'StrictHostKeyChecking=no',
    '-o',
    `UserKnownHostsFile=${NO_KNOWN_HOSTS}`,
    '-o',
    'BatchMode=yes',
    '-o',
    'LogLevel=ERROR',
    '-o',
    'IdentitiesOnly=yes',
    '-o',
    'IdentityAgent=none',
  ];
}

/** Runs `paas` (client/admin modes) from the sources, like the installed binary would. */
export function paasCli(args: string[], opts: Options = {}) {
  return execa(process.execPath, [...NODE_ARGS, MAIN, ...args], { reject: false, ...opts });
}

/**
 * A real `paas server` process on a temp data dir with free ports, an admin key registered via
 * `paas admin ssh-keys:add`, and helpers to drive it with the real OpenSSH and git clients.
 */
export class PaasServer {
  readonly dataDir: string;
  readonly keyDir: string;
  ports!: Ports;
  key!: { priv: string; pub: string };
  private child: ChildProcess | null = null;
  private logFile: string;

  constructor(readonly env: Record<string, string> = {}) {
    this.dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'paas-test-'));
    this.keyDir = path.join(this.dataDir, 'client');
    fs.mkdirSync(this.keyDir);
    this.logFile = path.join(this.dataDir, 'server.log');
  }

  /** this server's own label on everything it creates, so its cleanup never touches another test's */
  readonly labels = testLabels('e2e');

  get serverEnv(): Record<string, string> {
    const labels = Object.entries(this.labels)
      .map(([k, v]) => `${k}=${v}`)
      .join(',');
    // the metrics endpoint on a free loopback port: servers of tests running side by side never fight over 9150
    return {
      PAAS_CONTAINER_LABELS: labels,
      PAAS_DOMAIN: 'paas.test',
      PAAS_PROXY_WORKERS: '1',
      PAAS_METRICS_LISTEN: '127.0.0.1:0',
      ...this.env,
    };
  }

  async start(): Promise<this> {
    await this.spawnServer();
    if (!this.key) {
      this.key = await makeKey(this.keyDir, 'tester');
      const r = await this.admin(['ssh-keys:add', 'tester'], fs.readFileSync(this.key.pub, 'utf8'));
      if (r.exitCode !== 0) throw new Error(`admin ssh-keys:add failed: ${r.stderr}`);
    }
    return this;
  }

  async spawnServer(): Promise<void> {
    fs.rmSync(path.join(this.dataDir, 'run', 'ports.json'), { force: true });
    const out = fs.openSync(this.logFile, 'a');
    this.child = spawn(
      process.execPath,
      [
        ...NODE_ARGS,
        MAIN,
        'server',
        '--data-dir',
        this.dataDir,
        '--ssh-port',
        '0',
        '--http-port',
        '0',
        '--https-port',
        '0',
        '--listen',
        '127.0.0.1',
      ],
      { stdio: ['ignore', out, out], env: { ...process.env, ...this.serverEnv } },
    );
    fs.closeSync(out);
    const portsFile = path.join(this.dataDir, 'run', 'ports.json');
    const deadline = Date.now() + 30_000;
    while (!fs.existsSync(portsFile)) {
      if (this.child.exitCode !== null) throw new Error(`paas server exited ${this.child.exitCode}:\n${this.log()}`);
      if (Date.now() > deadline) throw new Error(`paas server did not write ports.json:\n${this.log()}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    this.ports = JSON.parse(fs.readFileSync(portsFile, 'utf8'));
  }

  get pid(): number {
    return this.child!.pid!;
  }

  log(): string {
    return fs.existsSync(this.logFile) ? fs.readFileSync(this.logFile, 'utf8').slice(-8000) : '';
  }

  admin(args: string[], input?: string) {
    return paasCli(['admin', '--data-dir', this.dataDir, ...args], { input: input ?? '', env: this.serverEnv });
  }

  /** `ssh -p PORT paas@127.0.0.1 <command>` with the real OpenSSH client. */
  /** A new key pair registered as a developer key granted `apps` (what the hostile tests attack with). */
  async addDeveloper(name: string, apps: string[]): Promise<{ priv: string; pub: string }> {
    const key = await makeKey(this.keyDir, name);
    const r = await this.ssh(`ssh-keys:add ${name} --role developer --apps ${apps.join(',')}`, { input: fs.readFileSync(key.pub, 'utf8') });
    if (r.exitCode !== 0) throw new Error(`ssh-keys:add ${name} failed: ${r.stderr}`);
    return key;
  }

  async ssh(command: string, opts: { input?: string; key?: string } = {}): Promise<SshResult> {
    const r = await execa('ssh', [...sshOptions(opts.key ?? this.key.priv, this.ports.ssh), 'paas@127.0.0.1', command], {
      reject: false,
      input: opts.input ?? '',
      timeout: 300_000,
      stripFinalNewline: false,
    });
    return { exitCode: r.exitCode ?? 1, stdout: String(r.stdout), stderr: String(r.stderr) };
  }

  /** Env for `git` so pushes go over real OpenSSH with this server's key. */
  gitEnv(): Record<string, string> {
    return { GIT_SSH_COMMAND: `ssh ${sshOptions(this.key.priv, this.ports.ssh).join(' ')}` };
  }

  /**
   * Env for the `paas` client (paasCli) to reach this server: the client relies on the user's ssh
   * config, and OpenSSH reads ~ from passwd, so an `ssh` wrapper first on PATH passes -F.
   */
  clientEnv(): Record<string, string> {
    const bin = path.join(this.keyDir, 'bin');
    fs.mkdirSync(bin, { recursive: true });
    const config = path.join(this.keyDir, 'ssh_config');
    fs.writeFileSync(path.join(bin, 'ssh'), `#!/bin/sh\nexec /usr/bin/ssh -F ${config} "$@"\n`, { mode: 0o755 });
    fs.writeFileSync(
      config,
      `Host 127.0.0.1\n  IdentityFile ${this.key.priv}\n  IdentitiesOnly yes\n  StrictHostKeyChecking no\n  UserKnownHostsFile ${NO_KNOWN_HOSTS}\n  LogLevel ERROR\n  BatchMode yes\n`,
    );
    return { PATH: `${bin}:${process.env.PATH}` };
  }

  remoteUrl(app: string): string {
    return `ssh://paas@127.0.0.1:${this.ports.ssh}/${app}`;
  }

  /** Stops the control plane with `signal` (SIGTERM also stops the proxy; SIGUSR2 leaves it). */
  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<number | null> {
    const child = this.child;
    if (!child || child.exitCode !== null) return child?.exitCode ?? null;
    const exited = new Promise<number | null>((r) => child.once('exit', (c) => r(c)));
    child.kill(signal);
    const t = setTimeout(() => child.kill('SIGKILL'), 10_000);
    const code = await exited;
    clearTimeout(t);
    return code;
  }

  kill9(): Promise<void> {
    const child = this.child!;
    const exited = new Promise<void>((r) => child.once('exit', () => r()));
    child.kill('SIGKILL');
    return exited;
  }

  proxyPid(): number | null {
    try {
      return Number(fs.readFileSync(path.join(this.dataDir, 'run', 'proxy.pid'), 'utf8'));
    } catch {
      return null;
    }
  }

  /** Stops everything, including a proxy left running, and removes the data dir. */
  async destroy(): Promise<void> {
    await this.stop();
    const pid = this.proxyPid();
    if (pid) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // gone
      }
    }
    await cleanupByLabel(runFilter(this.labels));
    if (!process.env.PAAS_KEEP_TEST_DIRS) fs.rmSync(this.dataDir, { recursive: true, force: true });
  }
}
