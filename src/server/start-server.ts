import fs from 'node:fs';
import { type ServerConfig, dataPaths } from '../config/server-config.js';
import { GIT_COMMANDS } from '../git/git-service.js';
import type { Logger } from '../log/logger.js';
import { ensureHostKey } from '../ssh/host-key.js';
import { SshServer } from '../ssh/ssh-server.js';
import { State } from '../state/state.js';
import { AdminSocketServer } from './admin-socket.js';
import { platformBackupScheduler } from './platform-backup-jobs.js';
import { BackgroundJobs } from './background-jobs.js';
import { buildControlPlane } from './control-plane.js';
import { writeJsonAtomic } from '../util/atomic-json.js';
import { livePid, removeOwnPidFile, writePidFile } from '../util/pid-file.js';
import { ensureProxy, stopProxy } from './proxy-supervisor.js';
import { ServerErrors } from './server-errors.js';

/**
 * `paas server`: the control plane (SSH, commands, deploys) plus a proxy process it finds or
 * starts. SIGTERM/SIGINT stop both; SIGUSR2 stops only the control plane (upgrades: the proxy
 * keeps serving the last routes and the next control plane reconciles).
 */
export async function startServer(config: ServerConfig, mainScript: string, log: Logger): Promise<void> {
  const paths = dataPaths(config.dataDir);
  fs.mkdirSync(config.dataDir, { recursive: true, mode: 0o700 });
  for (const d of [paths.run, paths.logs, paths.builds]) fs.mkdirSync(d, { recursive: true, mode: 0o700 });
  const other = livePid(paths.controlPid);
  if (other && other !== process.pid) throw ServerErrors.alreadyRunning(`paas server already runs with pid ${other} on ${config.dataDir}`);
  writePidFile(paths.controlPid);

  const state = State.open(paths.db);
  const proxy = await ensureProxy(config, paths, mainScript, log.child({ module: 'proxy-supervisor' }));
  const cp = await buildControlPlane(config, paths, state, proxy.client, log);
  // the proxy serves the certificates it has on disk; it may have missed changes while we were down
  await cp.tls.sync().catch((err) => log.error({ err: (err as Error).message }, 'sending the TLS state to the proxy failed'));
  cp.git.installHooks();
  const admin = new AdminSocketServer(paths.adminSocket, cp.host, log.child({ module: 'admin' }));
  await admin.listen();
  const ssh = new SshServer({
    hostKey: await ensureHostKey(paths.hostKey),
    findKey: (fp) => state.keys.byFingerprint(fp),
    identify: (fp) => cp.api.keys.identify(fp),
    handler: (words, identity, io) => (GIT_COMMANDS.has(words[0]) ? cp.git.handle(words, identity, io) : cp.host.run(words, identity, io)),
    log: log.child({ module: 'ssh' }),
  });
  cp.keyRemoved.add((fp) => ssh.disconnectKey(fp));
  const sshPort = await ssh.listen(config.sshPort, config.listen);
  writePidFile(paths.proxyPid, proxy.status.pid);
  const metricsFailed = await cp.api.metrics.start();
  if (metricsFailed) log.error({ err: metricsFailed.message }, 'metrics endpoint not started; metrics:set listen ADDR moves it');
  writeJsonAtomic(paths.portsFile, { ssh: sshPort, http: proxy.status.httpPort, https: proxy.status.httpsPort });
  log.info({ ssh: sshPort, http: proxy.status.httpPort, https: proxy.status.httpsPort, dataDir: config.dataDir }, 'paas server ready');

  const jobs = new BackgroundJobs(cp, state, log);
  jobs.start();
  const dashboardStop = new AbortController();
  const stopDashboard = await cp.dashboard
    .start(cp.host, cp.commands, proxy.status.httpsPort, dashboardStop.signal)
    .catch((err) => (log.error({ err: (err as Error).message }, 'dashboard not started'), async () => {}));
  // paas's Swarm registry runs beside the control plane once cluster:init prepared it
  cp.registrySupervisor.enable();
  const platformBackups = platformBackupScheduler(config, paths, state, cp, log);
  platformBackups.start();

  let shuttingDown = false;
  const shutdown = async (signal: NodeJS.Signals) => {
    if (shuttingDown) return;
    shuttingDown = true;
    const withProxy = signal !== 'SIGUSR2';
    log.info({ signal, withProxy }, 'paas server stopping');
    const force = setTimeout(() => process.exit(1), 4500);
    force.unref();
    platformBackups.stop();
    await Promise.allSettled([ssh.close(), admin.close(), jobs.stop(), cp.registrySupervisor.stop(), stopDashboard()]);
    if (withProxy) await stopProxy(proxy.status.pid, paths);
    state.close();
    removeOwnPidFile(paths.controlPid);
    if (withProxy) fs.rmSync(paths.portsFile, { force: true });
    log.flush?.();
    process.exit(0);
  };
  for (const s of ['SIGTERM', 'SIGINT', 'SIGUSR2'] as const) process.on(s, () => void shutdown(s));
}
