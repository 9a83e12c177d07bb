import { execFile, spawn } from 'node:child_process';
import fs from 'node:fs';
import { proxyLimitArgs, type ServerConfig } from '../config/server-config.js';
import type { Logger } from '../log/logger.js';
import { ProxyClient, type ProxyStatus } from '../proxy/control/proxy-client.js';
import { proxyExecArgv } from '../proxy/process/proxy-node-flags.js';
import { resolveProxyUser, unreachableMessage } from '../proxy/process/proxy-user.js';
import { buildVersion } from '../util/package-info.js';
import { livePid, removeOwnPidFile } from '../util/pid-file.js';
import { ServerErrors } from './server-errors.js';

/**
 * Finds the running proxy (it outlives control-plane restarts and crashes) or starts one as a
 * detached process in its own session, so killing the control plane never drops a request.
 */
export async function ensureProxy(
  config: ServerConfig,
  paths: { proxyPid: string; proxySocket: string; logs: string },
  mainScript: string,
  log: Logger,
): Promise<{ client: ProxyClient; status: ProxyStatus; started: boolean }> {
  const client = new ProxyClient(paths.proxySocket);
  const execArgv = proxyExecArgv(process.execArgv.filter((a) => a !== '--test'));
  const proxyArgs = proxyFlags(config);
  const logFile = `${paths.logs}/proxy.log`;
  if (livePid(paths.proxyPid)) {
    try {
      const status = await client.status();
      const version = buildVersion();
      if (status.version === version) {
        log.info({ pid: status.pid }, 'proxy already running; reusing it');
        return { client, status, started: false };
      }
      // an upgrade: the running proxy starts this build on its sockets, then drains and exits
      log.info({ pid: status.pid, running: status.version, version }, 'proxy runs another build; handing its sockets over');
      try {
        const { pid } = await client.handOver({ main: mainScript, execArgv, args: proxyArgs });
        const next = await client.status();
        log.info({ pid, was: status.pid, version: next.version }, 'proxy upgraded without closing its sockets');
        return { client, status: next, started: true };
      } catch (err) {
        log.error({ err: (err as Error).message }, 'proxy hand-over failed; the running proxy keeps serving');
        return { client, status, started: false };
      }
    } catch (err) {
      log.warn({ err }, 'proxy pid alive but control socket does not answer; starting a new proxy');
    }
  }
  await ensureProxyUser(config.proxyUser, log);
  if (process.getuid?.() === 0) {
    // the proxy drops root once its ports are bound: it must still reach its data and its code
    const user = resolveProxyUser(config.proxyUser);
    const unreachable = unreachableMessage(user, 'the data dir', config.dataDir) ?? unreachableMessage(user, 'the paas code', mainScript);
    if (unreachable) throw ServerErrors.proxyUnreachable(unreachable);
  }
  fs.mkdirSync(paths.logs, { recursive: true });
  const logFd = fs.openSync(logFile, 'a');
  const args = [...execArgv, mainScript, 'proxy', ...proxyArgs];
  const child = spawn(process.execPath, args, { detached: true, stdio: ['ignore', logFd, logFd], env: process.env });
  fs.closeSync(logFd);
  child.unref();
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const deadline = Date.now() + 15_000;
  let exitCode: number | null | undefined;
  void exited.then((c) => (exitCode = c));
  while (Date.now() < deadline) {
    if (exitCode !== undefined) break;
    try {
      // the control socket answers before the workers listen: wait for the bound ports
      const status = await client.status();
      if (status.httpPort === 0) throw new Error('not listening yet');
      log.info({ pid: status.pid, http: status.httpPort }, 'proxy started');
      return { client, status, started: true };
    } catch {
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  throw ServerErrors.proxyStart(`the proxy did not start (exit ${exitCode ?? 'none'}); see ${paths.logs}/proxy.log`);
}

/** The `paas proxy` flags for this server's config. */
function proxyFlags(config: ServerConfig): string[] {
  return [
    ...['--data-dir', config.dataDir, '--http-port', String(config.httpPort), '--https-port', String(config.httpsPort)],
    ...['--listen', config.listen, '--proxy-workers', String(config.proxyWorkers), '--log-level', config.logLevel],
    ...['--proxy-user', config.proxyUser],
    ...proxyLimitArgs(config),
  ];
}

/** Runs a short system command (getent, useradd): its exit code and last stderr line. */
function run(cmd: string, args: string[]): Promise<{ exitCode: number; stderr: string }> {
  return new Promise((resolve) => {
    execFile(cmd, args, (err, _stdout, stderr) => {
      const code = (err as { code?: unknown } | null)?.code;
      resolve({ exitCode: err === null ? 0 : typeof code === 'number' ? code : 127, stderr: `${stderr}` || (err?.message ?? '') });
    });
  });
}

async function userExists(name: string): Promise<boolean> {
  return (await run('getent', ['passwd', name])).exitCode === 0;
}

/**
 * Run as root, the proxy becomes its own system user once its ports are bound; that user is made
 * here when missing (install.sh makes it too), so a server on any data dir works. Not root:
 * nothing to drop, nothing to make. Servers starting side by side may race on useradd (the
 * passwd lock, or the user made by the other a moment ago): the user existing afterwards is what counts.
 */
export async function ensureProxyUser(name: string, log: Logger): Promise<void> {
  if (process.getuid?.() !== 0 || (await userExists(name))) return;
  let last = '';
  for (let attempt = 0; attempt < 10; attempt++) {
    const r = await run('useradd', ['--system', '--no-create-home', '--user-group', '--shell', '/usr/sbin/nologin', name]);
    if (r.exitCode === 0) {
      log.info({ user: name }, 'created the proxy user');
      return;
    }
    if (await userExists(name)) return;
    last = r.stderr.trim().split('\n').pop() ?? '';
    await new Promise((resolve) => setTimeout(resolve, 100 * (attempt + 1)));
  }
  throw ServerErrors.proxyUser(`cannot create the proxy user '${name}' (useradd: ${last})`);
}

/**
 * Stops the proxy (SIGTERM, then SIGKILL after 4 s) and removes its control socket and pid file:
 * a proxy that gave up root cannot delete them from the root-only run folder itself.
 */
export async function stopProxy(pid: number, paths: { proxyPid: string; proxySocket: string }): Promise<void> {
  try {
    process.kill(pid, 'SIGTERM');
  } catch {
    removeProxyFiles(pid, paths);
    return;
  }
  const deadline = Date.now() + 4000;
  while (Date.now() < deadline) {
    try {
      process.kill(pid, 0);
    } catch {
      removeProxyFiles(pid, paths);
      return;
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    // gone
  }
}

function removeProxyFiles(pid: number, paths: { proxyPid: string; proxySocket: string }): void {
  const owner = livePid(paths.proxyPid);
  if (owner !== null && owner !== pid) return; // a successor owns them
  fs.rmSync(paths.proxySocket, { force: true });
  removeOwnPidFile(paths.proxyPid, pid);
}
