import cluster from 'node:cluster';
import type { ProxyLimitsConfig } from '../config/server-config.js';
import { createLogger } from '../log/logger.js';
import { startProxy, workerOptions } from './proxy-server.js';
import { dropPrivileges, resolveProxyUser, runsAsRoot } from './process/proxy-user.js';
import { holdTickShapes } from './process/tick-shapes.js';
import { runWorkerProcess } from './process/worker-process.js';

interface RunProxyOptions {
  dataDir: string;
  httpPort: number;
  httpsPort: number;
  listen: string;
  /** 0 = one per core */
  workers: number;
  logLevel?: string;
  /** the system user to become once the ports are bound, when started as root (--proxy-user) */
  user?: string;
  /** --proxy-idle-timeout, --proxy-header-timeout, --proxy-max-connections(-per-ip), --proxy-upstream-wait */
  limits?: ProxyLimitsConfig;
  trustedProxies?: string[];
  /** started by the previous proxy to take its sockets over */
  takeover?: boolean;
}

const SHUTDOWN_GRACE_MS = 5000;

/**
 * Entry of the hidden `paas proxy` subcommand. In the primary: start, then run until SIGTERM or
 * SIGINT, drain for up to 5 s and exit 0. In a cluster worker: serve traffic for the primary.
 * Started as root with a `user`, the primary becomes that user once its ports are bound, and
 * its workers are forked as that user (one still root drops before it reads anything).
 */
export async function runProxy(opts: RunProxyOptions): Promise<void> {
  // first, in the primary and in every worker: nextTick's object maps must outlive quiet moments
  holdTickShapes();
  const logger = createLogger({ level: opts.logLevel }).child({ component: 'proxy' });
  const user = opts.user && runsAsRoot() ? resolveProxyUser(opts.user) : undefined;
  const { limits, ...rest } = opts;
  const base = {
    ...rest,
    logger,
    user,
    ...(limits
      ? {
          limits: {
            idleTimeoutMs: limits.idleTimeoutMs,
            headerTimeoutMs: limits.headerTimeoutMs,
            maxConnections: limits.maxConnections,
            maxConnectionsPerIp: limits.maxConnectionsPerIp,
          },
          upstream: { queueTimeoutMs: limits.upstreamWaitMs },
        }
      : {}),
  };
  if (cluster.isWorker) {
    if (user) dropPrivileges(user);
    await runWorkerProcess(await workerOptions({ ...base, user: undefined }), logger);
    return;
  }
  let handedOver: (() => void) | null = null;
  const handle = await startProxy({ ...base, onHandedOver: () => handedOver?.() });
  await new Promise<void>((resolve) => {
    // an upgrade: the successor accepts now; this one drains what it has and exits
    handedOver = () => {
      logger.info({}, 'proxy handed over; draining');
      handle
        .close(SHUTDOWN_GRACE_MS)
        .catch((err) => logger.error({ err: (err as Error).message }, 'proxy close failed'))
        .finally(resolve);
    };
    const stop = (signal: string) => {
      logger.info({ signal }, 'proxy stopping');
      handle
        .close(SHUTDOWN_GRACE_MS)
        .catch((err) => logger.error({ err: (err as Error).message }, 'proxy close failed'))
        .finally(resolve);
    };
    process.once('SIGTERM', () => stop('SIGTERM'));
    process.once('SIGINT', () => stop('SIGINT'));
  });
  process.exit(0);
}
