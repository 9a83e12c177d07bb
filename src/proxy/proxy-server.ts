import { mkdir, unlink } from 'node:fs/promises';
import os from 'node:os';
import { dataPaths } from '../config/server-config.js';
import type { Logger } from '../log/logger.js';
import { buildVersion } from '../util/package-info.js';
import { removeOwnPidFile, writePidFile } from '../util/pid-file.js';
import { ClusterWorkers } from './process/cluster-workers.js';
import { ControlApi, type ProxyStatus } from './control/control-api.js';
import { EDGE_DEFAULTS, type EdgeLimits, perWorker } from './edge/edge-limits.js';
import { proxyKnobs } from '../config/env-knobs.js';
import { ErrorPages } from './edge/error-pages.js';
import { LocalWorkers } from './process/local-workers.js';
import { ProxyController } from './control/proxy-controller.js';
import { ProxyErrors } from './proxy-errors.js';
import { announceReady, receiveSockets, startSuccessor } from './process/proxy-handover.js';
import {
  checkProxyDirsWritable,
  dropPrivileges,
  type ProxyUser,
  prepareProxyDirs,
  runsAsRoot,
  unreachableMessage,
} from './process/proxy-user.js';
import { ProxyWorker, type ProxyWorkerOptions } from './process/proxy-worker.js';
import { RouteStore } from './routing/route-store.js';
import { ensureDefaultCert } from './tls/tls-cert.js';
import { TlsController } from './control/tls-controller.js';
import { loadTlsState, tlsStateFile } from './tls/tls-state-file.js';
import { TrustedProxies } from '../util/trusted-proxies.js';
import { UPSTREAM_DEFAULTS, type UpstreamOptions } from './edge/upstream-pools.js';
import type { WorkerPool } from './process/worker-pool.js';

export interface ProxyOptions {
  dataDir: string;
  httpPort: number;
  httpsPort: number;
  listen: string;
  /** processes carrying traffic, the primary included; 0 = one per core */
  workers: number;
  logger: Logger;
  /** max request body in bytes (default 100 MiB, env PAAS_PROXY_BODY_LIMIT) */
  bodyLimit?: number;
  upstream?: Partial<UpstreamOptions>;
  /** client connection limits for the whole proxy (split over the workers) */
  limits?: Partial<EdgeLimits>;
  /** `--trusted-proxies`: CIDRs whose forwarding headers are believed */
  trustedProxies?: string[];
  /**
   * When the proxy starts as root: the user it becomes once its ports and control socket are
   * bound (the primary drops; cluster workers are forked as that user). Ignored when not root.
   */
  user?: ProxyUser;
  /** started by a previous proxy to take its sockets over (`paas proxy --takeover`) */
  takeover?: boolean;
  /** called once this proxy has handed its sockets to a successor: it should drain and exit */
  onHandedOver?: () => void;
}

export interface ProxyHandle {
  status(): ProxyStatus;
  controller: ProxyController;
  close(graceMs?: number): Promise<void>;
}

const DEFAULT_BODY_LIMIT = 100 * 1024 * 1024;

/** Worker options shared by the primary (in-process worker) and cluster workers. */
export async function workerOptions(opts: ProxyOptions): Promise<ProxyWorkerOptions> {
  const knobs = proxyKnobs();
  const timeout = knobs.upstreamTimeoutMs;
  return {
    listen: opts.listen,
    httpPort: opts.httpPort,
    httpsPort: opts.httpsPort,
    tls: await ensureDefaultCert(opts.dataDir, opts.user && runsAsRoot() ? opts.user : undefined),
    tlsState: await loadTlsState(tlsStateFile(opts.dataDir), opts.logger),
    bodyLimit: opts.bodyLimit ?? knobs.bodyLimit ?? DEFAULT_BODY_LIMIT,
    upstream: {
      ...UPSTREAM_DEFAULTS,
      ...(timeout ? { headersTimeoutMs: timeout, bodyTimeoutMs: timeout } : {}),
      ...opts.upstream,
      ...(knobs.benchWithoutLimits ? { queueTimeoutMs: 0 } : {}),
    },
    limits: perWorker({ ...EDGE_DEFAULTS, ...opts.limits }, workerCount(opts.workers)),
    withoutLimits: knobs.benchWithoutLimits,
    trusted: new TrustedProxies(opts.trustedProxies ?? []),
    errorPages: new ErrorPages(),
    logger: opts.logger,
    metrics: knobs.metrics,
  };
}

/** Processes that carry traffic: `workers`, or one per core for 0. */
export function workerCount(workers: number): number {
  return workers === 0 ? os.availableParallelism() : workers;
}

/**
 * Starts the proxy primary: restores routes, starts the workers with them (only then do they
 * listen), opens the control socket and writes the pid file. Started as root with `user`, it
 * first hands the proxy's folders to that user and, once everything that needs root is bound,
 * becomes that user; only then does its status report the ports (the supervisor waits for them).
 */
export async function startProxy(opts: ProxyOptions): Promise<ProxyHandle> {
  const paths = dataPaths(opts.dataDir);
  const log = opts.logger;
  const user = opts.user && runsAsRoot() ? opts.user : undefined;
  if (user) {
    // checked as root, before anything: once root is gone the data dir would just be "permission denied"
    const unreachable = unreachableMessage(user, 'the data dir', opts.dataDir);
    if (unreachable) throw ProxyErrors.dropFailed(unreachable);
  }
  await mkdir(paths.run, { recursive: true });
  if (user) await prepareProxyDirs(opts.dataDir, user, log);
  const store = new RouteStore(paths.proxyState);
  const services = await store.load();
  const wopts = await workerOptions({ ...opts, user });
  const count = workerCount(opts.workers);
  // the primary serves as one of the `count` workers: one process for 1, N processes for N
  const bind = { host: opts.listen, httpPort: opts.httpPort, httpsPort: wopts.tls ? opts.httpsPort : null };
  const workers: WorkerPool = count <= 1 ? new LocalWorkers(wopts) : new ClusterWorkers(count - 1, log, bind, user, new ProxyWorker(wopts));
  const controller = new ProxyController(services, store, workers, log);
  let ports = { http: 0, https: 0 };
  const version = buildVersion();
  const status = (): ProxyStatus => ({
    pid: process.pid,
    httpPort: ports.http,
    httpsPort: ports.https,
    services: controller.serviceCount,
    version,
    workers: count,
  });
  const tls = new TlsController(wopts.tlsState ?? { certs: [], hosts: {} }, tlsStateFile(opts.dataDir), () => workers, log);
  const api = new ControlApi(controller, status, log, tls);
  // a successor gets the sockets of the proxy it replaces; otherwise the control socket is
  // claimed first: a second proxy on the same data dir must fail before listening
  const inherited = opts.takeover ? await receiveSockets() : null;
  if (inherited) api.listenOn(inherited.control);
  else {
    await api.listen(paths.proxySocket);
    writePidFile(paths.proxyPid);
  }
  let handedOver = false;
  api.onHandover = async (req) => {
    const sockets = workers.listenSockets();
    if (!sockets) throw ProxyErrors.handoverFailed('this proxy is not listening');
    const pid = await startSuccessor(req, sockets, api.socket(), log);
    handedOver = true;
    api.handedOverTo(pid);
    return { pid };
  };
  api.onHandedOver = () => opts.onHandedOver?.();
  try {
    const bound = await workers.start(controller.table(), inherited?.listen);
    if (user) {
      dropPrivileges(user);
      await checkProxyDirsWritable(opts.dataDir, user);
      log.info({ user: user.name, uid: user.uid, gid: user.gid }, 'proxy dropped root');
    }
    ports = bound;
  } catch (err) {
    if (user) await workers.close(0).catch(() => {});
    await api.close();
    await unlink(paths.proxySocket).catch(() => {});
    removeOwnPidFile(paths.proxyPid);
    throw err;
  }
  log.info({ http: ports.http, https: ports.https, workers: count, services: services.size, takeover: !!inherited }, 'proxy listening');
  if (inherited) announceReady();
  let closing: Promise<void> | null = null;
  return {
    status,
    controller,
    close(graceMs = 5000) {
      closing ??= (async () => {
        // after a hand-over the control socket is the successor's: not closed (that would unlink it)
        if (!handedOver) await api.close();
        controller.close();
        await workers.close(graceMs);
        if (!handedOver) {
          await unlink(paths.proxySocket).catch(() => {});
          removeOwnPidFile(paths.proxyPid);
        }
        log.info({}, 'proxy stopped');
      })();
      return closing;
    },
  };
}
