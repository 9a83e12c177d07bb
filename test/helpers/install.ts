// Running install.sh from a test without touching the host's own install: a private copy of the
// checkout (node_modules hard-linked, so `npm ci` in the copy never removes the real one), a
// temp data dir, env file and bin dir (PAAS_ENV_FILE, PAAS_BIN_DIR), and the background-daemon
// mode (PAAS_INIT=daemon) even on a systemd host.
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import fs from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';

export const REPO_ROOT = path.resolve(import.meta.dirname, '..', '..');

export interface InstallSandbox {
  /** the copy of the checkout that install.sh builds in place */
  checkout: string;
  dataDir: string;
  envFile: string;
  binDir: string;
  /** PAAS_INSTALL_DIR: where install.sh copies a checkout it will not build in place */
  installDir: string;
}

export interface InstallResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** Copies the working tree (not .git, dist or .tmp) into `dir`, hard-linking node_modules. */
export async function copyCheckout(dir: string): Promise<string> {
  const dest = path.join(dir, 'checkout');
  await fs.mkdir(dest, { recursive: true });
  const skip = new Set(['.git', 'node_modules', 'dist', '.tmp']);
  for (const entry of await fs.readdir(REPO_ROOT)) {
    if (skip.has(entry)) continue;
    await fs.cp(path.join(REPO_ROOT, entry), path.join(dest, entry), { recursive: true, verbatimSymlinks: true });
  }
  if (existsSync(path.join(REPO_ROOT, 'node_modules'))) {
    execFileSync('cp', ['-al', path.join(REPO_ROOT, 'node_modules'), path.join(dest, 'node_modules')]);
  }
  return dest;
}

export async function makeSandbox(dir: string): Promise<InstallSandbox> {
  // the proxy runs as its own user: it must traverse the folders above the data dir and read the code
  await fs.chmod(dir, 0o755);
  return {
    checkout: await copyCheckout(dir),
    dataDir: path.join(dir, 'data'),
    envFile: path.join(dir, 'etc', 'paas.env'),
    binDir: path.join(dir, 'bin'),
    installDir: path.join(dir, 'lib', 'paas'),
  };
}

/** The environment without the caller's PAAS_* settings, which would leak into the install. */
export function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('PAAS_')) env[k] = v;
  return { ...env, CI: 'true', ...extra };
}

/** The environment install.sh runs with in a sandbox. */
function installEnv(sb: InstallSandbox, extraEnv: Record<string, string>): NodeJS.ProcessEnv {
  return cleanEnv({
    PAAS_ENV_FILE: sb.envFile,
    PAAS_BIN_DIR: sb.binDir,
    PAAS_INSTALL_DIR: sb.installDir,
    PAAS_INIT: 'daemon',
    ...extraEnv,
  });
}

/** Runs the sandbox's install.sh with `args`; never prompts (CI=true, no stdin). */
export function runInstall(sb: InstallSandbox, args: string[], extraEnv: Record<string, string> = {}): InstallResult {
  const r = spawnSync('bash', [path.join(sb.checkout, 'install.sh'), ...args], {
    env: installEnv(sb, extraEnv),
    stdio: ['ignore', 'pipe', 'pipe'],
    encoding: 'utf8',
    timeout: 10 * 60_000,
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** runInstall without blocking this process (a load loop can run alongside). */
export function runInstallAsync(sb: InstallSandbox, args: string[], extraEnv: Record<string, string> = {}): Promise<InstallResult> {
  return new Promise((resolve) => {
    const child = spawn('bash', [path.join(sb.checkout, 'install.sh'), ...args], {
      env: cleanEnv({
        PAAS_ENV_FILE: sb.envFile,
        PAAS_BIN_DIR: sb.binDir,
        PAAS_INSTALL_DIR: sb.installDir,
        PAAS_INIT: 'daemon',
        ...extraEnv,
      }),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), 10 * 60_000);
    child.on('close', (status) => {
      clearTimeout(timer);
      resolve({ status, stdout, stderr });
    });
  });
}

/** `count` distinct free TCP ports on 127.0.0.1 (free when asked; good enough for a test). */
export async function freePorts(count: number): Promise<number[]> {
  const servers: net.Server[] = [];
  const ports: number[] = [];
  for (let i = 0; i < count; i++) {
    const s = net.createServer();
    await new Promise<void>((resolve, reject) => s.once('error', reject).listen(0, '127.0.0.1', resolve));
    servers.push(s);
    ports.push((s.address() as net.AddressInfo).port);
  }
  await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
  return ports;
}

export function readPid(file: string): number | undefined {
  const n = Number(readFileSync(file, 'utf8').trim());
  return Number.isInteger(n) && n > 0 ? n : undefined;
}

/** Running and not a zombie (an exited daemon may stay unreaped where PID 1 does not reap). */
export function pidAlive(pid: number | undefined): boolean {
  if (!pid) return false;
  try {
    process.kill(pid, 0);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

/** SIGTERM (paas stops everything on it), then SIGKILL what is still alive after `ms`. */
export async function stopPids(pids: (number | undefined)[], ms = 10_000): Promise<void> {
  const live = [...new Set(pids)].filter(pidAlive) as number[];
  for (const pid of live) process.kill(pid, 'SIGTERM');
  const deadline = Date.now() + ms;
  while (live.some(pidAlive) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  for (const pid of live.filter(pidAlive)) process.kill(pid, 'SIGKILL');
}

/** `ssh-keygen -lf` fingerprint (SHA256:…) of a public or private key file. */
export function fingerprint(keyFile: string): string {
  return execFileSync('ssh-keygen', ['-lf', keyFile], { encoding: 'utf8' }).split(' ')[1];
}
