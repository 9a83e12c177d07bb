import cluster, { type Worker } from 'node:cluster';
import type { Socket } from 'node:net';
import type { Logger } from '../../log/logger.js';
import { acceptFrom, bindListenSockets, closeListenSockets, type ListenSockets, portsOf } from './listen-sockets.js';
import type { ChallengeMap } from '../edge/acme-challenges.js';
import type { TargetDownListener } from '../edge/proxy-context.js';
import { ProxyErrors } from '../proxy-errors.js';
import type { ProxyUser } from './proxy-user.js';
import type { ProxyWorker } from './proxy-worker.js';
import { emptyStats, mergeStats, type RouteTable, type WorkerStats } from '../routing/route-table.js';
import type { TlsState } from '../tls/tls-state.js';
import { isProxyMessage, type PrimaryMessage, type WorkerMessage } from './worker-messages.js';
import type { BoundPorts } from './listen-sockets.js';
import { type DrainResult, mergeAccessLogs, sumDrain, sumFigures, type WorkerPool } from './worker-pool.js';
import type { AccessEntry, ProxyFigures } from '../edge/request-figures.js';

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;
type Call = DistributiveOmit<PrimaryMessage, 'id' | 'kind'>;

/** Where the primary binds the proxy's ports (https null: no HTTPS listener). */
export interface ListenOptions {
  host: string;
  httpPort: number;
  httpsPort: number | null;
}

interface Pending {
  resolve: (v: unknown) => void;
  reject: (e: Error) => void;
}

/**
 * Worker processes (node:cluster) sharing the listening ports; the primary drives them over IPC.
 * The primary binds and accepts and hands connections out round-robin, so with a proxy `user` the
 * workers are forked as that user from the start and never hold root. With a `local` worker the
 * primary carries traffic too, as one of the lanes: N workers cost N processes, not N + 1.
 */
export class ClusterWorkers implements WorkerPool {
  private readonly count: number;
  private readonly log: Logger;
  private readonly user: ProxyUser | undefined;
  /** the worker inside the primary's own process, when it serves too */
  private readonly local: ProxyWorker | null;
  private started = false;
  private readonly workers = new Set<Worker>();
  private readonly pending = new Map<Worker, Map<number, Pending>>();
  private table: RouteTable = { version: 0, services: [] };
  private nextId = 0;
  private closing = false;
  private targetDown: TargetDownListener | null = null;
  private challenges: ChallengeMap = {};

  private readonly bind: ListenOptions;
  private sockets: ListenSockets | null = null;
  /** workers that serve, in the order connections are handed out */
  private ready: Worker[] = [];
  private nextWorker = 0;

  /** `count` forked workers, plus `local` (in this process) when given */
  constructor(count: number, logger: Logger, bind: ListenOptions, user?: ProxyUser, local?: ProxyWorker) {
    this.count = count;
    this.log = logger;
    this.bind = bind;
    this.user = user;
    this.local = local ?? null;
    if (this.local) this.local.onTargetDown = (service, address) => this.targetDown?.(service, address);
  }

  /**
   * Binds the listening sockets in the primary (or takes `inherited` ones from a previous proxy),
   * then forks the workers; the primary accepts and hands connections out round-robin, as
   * node:cluster does, but owns the sockets, so an upgrade can pass them on.
   */
  async start(table: RouteTable, inherited?: ListenSockets): Promise<BoundPorts> {
    this.table = table;
    const b = this.bind;
    this.sockets = inherited ?? (await bindListenSockets(b.host, b.httpPort, b.httpsPort));
    if (this.user) cluster.setupPrimary({ uid: this.user.uid, gid: this.user.gid });
    const ready: Array<Promise<BoundPorts>> = [];
    if (this.local) {
      this.local.apply(table);
      ready.push(this.local.listen(portsOf(this.sockets)));
    }
    for (let i = 0; i < this.count; i++) ready.push(this.fork());
    const ports = await Promise.all(ready);
    // connections wait (held, unread) until every worker serves
    acceptFrom(this.sockets, (socket, tls) => this.dispatch(socket, tls));
    this.started = true;
    return ports[0];
  }

  private fork(): Promise<BoundPorts> {
    const worker = cluster.fork();
    this.workers.add(worker);
    this.pending.set(worker, new Map());
    return new Promise<BoundPorts>((resolve, reject) => {
      let isReady = false;
      worker.on('message', (m: unknown) => {
        if (!isProxyMessage(m)) return;
        const msg = m as WorkerMessage;
        if (msg.op === 'hello') {
          // a (re)started worker loads the TLS state file itself; pending challenges live in memory only
          this.send(worker, { op: 'challenges', challenges: this.challenges }).catch(() => {});
          this.send(worker, { op: 'apply', table: this.table, listen: portsOf(this.sockets!) }).catch(() => {});
        } else if (msg.op === 'ready') {
          isReady = true;
          this.ready.push(worker);
          resolve({ http: msg.http, https: msg.https });
        } else if (msg.op === 'target-down') {
          this.targetDown?.(msg.service, msg.address);
        } else if (msg.op === 'reply') {
          const p = this.pending.get(worker)?.get(msg.id);
          if (!p) return;
          this.pending.get(worker)!.delete(msg.id);
          if (msg.error) p.reject(ProxyErrors.workerFailed(msg.error));
          else p.resolve(msg.result);
        }
      });
      worker.once('exit', (code, signal) => {
        this.workers.delete(worker);
        this.ready = this.ready.filter((w) => w !== worker);
        const waiting = this.pending.get(worker);
        this.pending.delete(worker);
        // a dead worker has nothing left in flight: count its calls as done
        for (const p of waiting?.values() ?? []) p.resolve(undefined);
        if (!isReady) reject(ProxyErrors.workerFailed(`proxy worker exited during start (code ${code}, signal ${signal})`));
        if (this.closing) return;
        if (this.user && this.started && this.workers.size === 0 && !this.local) {
          // the primary has given up root: with every worker gone, cluster has closed the listening
          // sockets and a port below 1024 cannot be bound again; exit so the proxy is started anew
          this.log.fatal({ worker: worker.process.pid, code, signal }, 'every proxy worker died after root was dropped; exiting');
          process.exit(1);
        }
        this.log.error({ worker: worker.process.pid, code, signal }, 'proxy worker died, restarting');
        this.fork().catch((err) => this.log.error({ err: (err as Error).message }, 'proxy worker restart failed'));
      });
    });
  }

  /** Hands an accepted connection to the next serving worker (round-robin). */
  private dispatch(socket: Socket, tls: boolean): void {
    const n = this.ready.length + (this.local ? 1 : 0);
    if (n === 0 || this.closing) {
      socket.destroy();
      return;
    }
    if (this.nextWorker >= n) this.nextWorker = 0;
    const lane = this.nextWorker++;
    if (lane === this.ready.length) {
      this.local!.accept(socket, tls);
      return;
    }
    const worker = this.ready[lane];
    worker.send({ kind: 'paas-proxy', id: 0, op: 'conn', tls }, socket, (err: Error | null) => {
      if (err) socket.destroy();
    });
  }

  listenSockets(): ListenSockets | null {
    return this.sockets;
  }

  private send(worker: Worker, call: Call): Promise<unknown> {
    const id = ++this.nextId;
    const msg = { kind: 'paas-proxy', id, ...call } as PrimaryMessage;
    return new Promise((resolve, reject) => {
      const map = this.pending.get(worker);
      if (!map || !worker.isConnected()) {
        resolve(undefined);
        return;
      }
      map.set(id, { resolve, reject });
      worker.send(msg, (err: Error | null) => {
        if (err) {
          map.delete(id);
          resolve(undefined);
        }
      });
    });
  }

  private broadcast(call: Call): Promise<unknown[]> {
    return Promise.all([...this.workers].map((w) => this.send(w, call)));
  }

  async apply(table: RouteTable): Promise<void> {
    this.table = table;
    this.local?.apply(table);
    await this.broadcast({ op: 'apply', table });
  }

  async drain(service: string, addresses: readonly string[], timeoutMs: number): Promise<DrainResult> {
    const [results, own] = await Promise.all([
      this.broadcast({ op: 'drain', service, addresses: [...addresses], timeoutMs }),
      this.local?.drain(service, addresses, timeoutMs),
    ]);
    return sumDrain([...results, own].filter((r): r is DrainResult => r !== undefined));
  }

  async stats(): Promise<WorkerStats> {
    const results = await this.broadcast({ op: 'stats' });
    const out = emptyStats();
    for (const r of [...results, this.local?.stats()]) if (r) mergeStats(out, r as WorkerStats);
    return out;
  }

  async figures(): Promise<ProxyFigures> {
    const results = (await this.broadcast({ op: 'figures' })) as Array<ProxyFigures | null | undefined>;
    return sumFigures([...results, this.local?.figures()]);
  }

  async accessLog(app: string, since: number, limit: number): Promise<AccessEntry[]> {
    const results = (await this.broadcast({ op: 'access-log', app, since, limit })) as Array<AccessEntry[] | undefined>;
    return mergeAccessLogs([...results, this.local?.accessLog(app, since, limit)], limit);
  }

  onTargetDown(listener: TargetDownListener): void {
    this.targetDown = listener;
  }

  async applyTls(state: TlsState): Promise<void> {
    this.local?.applyTls(state);
    await this.broadcast({ op: 'tls', state });
  }

  async applyChallenges(challenges: ChallengeMap): Promise<void> {
    this.challenges = challenges;
    this.local?.applyChallenges(challenges);
    await this.broadcast({ op: 'challenges', challenges });
  }

  async close(graceMs: number): Promise<void> {
    this.closing = true;
    if (this.sockets) await closeListenSockets(this.sockets);
    const exits = [...this.workers].map((w) => new Promise<void>((r) => (w.isDead() ? r() : w.once('exit', () => r()))));
    await Promise.all([this.broadcast({ op: 'shutdown', graceMs }), this.local?.close(graceMs)]);
    const timer = setTimeout(() => {
      for (const w of this.workers) w.process.kill('SIGKILL');
    }, graceMs + 2000);
    await Promise.all(exits);
    clearTimeout(timer);
  }
}
