import { Socket } from 'node:net';
import type { Logger } from '../../log/logger.js';
import { ProxyWorker, type ProxyWorkerOptions } from './proxy-worker.js';
import { isProxyMessage, type PrimaryMessage, type WorkerMessage } from './worker-messages.js';

/** Body of a cluster worker: applies what the primary sends, listens after the first route table. */
export function runWorkerProcess(opts: ProxyWorkerOptions, logger: Logger): Promise<void> {
  const worker = new ProxyWorker(opts);
  worker.onTargetDown = (service, address) => reply({ kind: 'paas-proxy', op: 'target-down', service, address });
  let listening: Promise<unknown> | null = null;
  let ready = false;
  let shuttingDown = false;
  const reply = (m: WorkerMessage) => {
    if (process.connected) process.send?.(m);
  };
  const shutdown = async (graceMs: number) => {
    if (shuttingDown) return;
    shuttingDown = true;
    await worker.close(graceMs).catch((err) => logger.error({ err: (err as Error).message }, 'proxy worker close failed'));
    process.exit(0);
  };
  // the primary decides when to stop; a terminal's Ctrl-C reaches the whole group
  process.on('SIGINT', () => {});
  process.on('SIGTERM', () => {});
  process.on('disconnect', () => void shutdown(5000));
  // connections the primary accepted come with their socket, and get no reply
  process.on('message', (m: unknown, handle: unknown) => {
    if (isProxyMessage(m) && (m as PrimaryMessage).op === 'conn' && handle instanceof Socket)
      worker.accept(handle, (m as unknown as { tls: boolean }).tls);
  });
  process.on('message', async (m: unknown) => {
    if (!isProxyMessage(m)) return;
    const msg = m as PrimaryMessage;
    if (msg.op === 'conn') return;
    try {
      let result: unknown;
      switch (msg.op) {
        case 'apply':
          worker.apply(msg.table);
          if (!listening) {
            listening = worker.listen(msg.listen).then((ports) => {
              ready = true;
              reply({ kind: 'paas-proxy', op: 'ready', http: ports.http, https: ports.https });
            });
            await listening;
          }
          break;
        case 'drain':
          result = await worker.drain(msg.service, msg.addresses, msg.timeoutMs);
          break;
        case 'stats':
          result = worker.stats();
          break;
        case 'figures':
          result = worker.figures();
          break;
        case 'access-log':
          result = worker.accessLog(msg.app, msg.since, msg.limit);
          break;
        case 'tls':
          worker.applyTls(msg.state);
          break;
        case 'challenges':
          worker.applyChallenges(msg.challenges);
          break;
        case 'shutdown':
          reply({ kind: 'paas-proxy', op: 'reply', id: msg.id });
          await shutdown(msg.graceMs);
          return;
      }
      reply({ kind: 'paas-proxy', op: 'reply', id: msg.id, result });
    } catch (err) {
      logger.error({ err: (err as Error).message, op: msg.op }, 'proxy worker command failed');
      reply({ kind: 'paas-proxy', op: 'reply', id: msg.id, error: (err as Error).message });
      if (!ready) process.exit(1);
    }
  });
  reply({ kind: 'paas-proxy', op: 'hello' });
  return new Promise(() => {});
}
