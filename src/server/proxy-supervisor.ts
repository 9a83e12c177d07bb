import { spawn } from 'node:child_process';
import fs from 'node:fs';
import type { ServerConfig } from '../config/server-config.js';
import type { Logger } from '../log/logger.js';
import { ProxyClient, type ProxyStatus } from '../proxy/proxy-client.js';
import { livePid } from '../util/pid-file.js';
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
  if (livePid(paths.proxyPid)) {
    try {
      const status = await client.status();
      log.info({ pid: status.pid }, 'proxy already running; reusing it');
      return { client, status, started: false };
    } catch (err) {
      log.warn({ err }, 'proxy pid alive but control socket does not answer; starting a new proxy');
    }
  }
  fs.mkdirSync(paths.logs, { recursive: true });
  const logFd = fs.openSync(`${paths.logs}/proxy.log`, 'a');
  const args = [
    ...process.execArgv.filter((a) => a !== '--test'),
    mainScript,
    'proxy',
    '--data-dir',
    config.dataDir,
    '--http-port',
    String(config.httpPort),
    '--https-port',
    String(config.httpsPort),
    '--listen',
    config.listen,
    '--proxy-workers',
    String(config.proxyWorkers),
    '--log-level',
    config.logLevel,
  ];
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
