import type { Socket } from 'node:net';
import type { WebSocket } from 'ws';

/** Consecutive refused connects after which a worker takes a target out of rotation. */
export const CONNECT_FAILURE_THRESHOLD = 3;

/** Close code sent to websocket clients whose target is retired ("service restart"). */
export const WS_CLOSE_SERVICE_RESTART = 1012;
const WS_CLOSE_SERVICE_RESTART_REASON = 'service restart';

/**
 * One upstream address of one service, as a worker sees it: counts its in-flight requests and
 * tracks its websocket connections, so a retired target can be drained.
 */
export class Target {
  readonly address: string;
  readonly origin: string;
  readonly host: string;
  readonly port: number;
  inflight = 0;
  /** removed from its service: receives no new request */
  retired = false;
  /** its drain timed out: requests still running are answered 504 */
  expired = false;
  /** out of rotation (refused connections) until the primary's probe finds it answering again */
  down = false;
  /** connects refused in a row; reset by any answer */
  connectFailures = 0;
  /** raw client sockets of upgraded (websocket) connections */
  readonly upgrades = new Set<Socket>();
  readonly websockets = new Map<Socket, WebSocket>();
  private idleWaiters: Array<() => void> = [];

  constructor(address: string) {
    this.address = address;
    this.origin = `http://${address}`;
    const colon = address.lastIndexOf(':');
    this.host = address.slice(0, colon).replace(/^\[(.*)\]$/, '$1');
    this.port = Number(address.slice(colon + 1));
  }

  acquire(): void {
    this.inflight++;
  }

  release(): void {
    this.inflight--;
    if (this.inflight === 0 && this.idleWaiters.length > 0) {
      const waiters = this.idleWaiters;
      this.idleWaiters = [];
      for (const w of waiters) w();
    }
  }

  /** Resolves once no request is in flight on this target. */
  whenIdle(): Promise<void> {
    if (this.inflight === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  trackUpgrade(socket: Socket): void {
    if (this.upgrades.has(socket)) return;
    this.upgrades.add(socket);
    socket.once('close', () => {
      this.upgrades.delete(socket);
      this.websockets.delete(socket);
    });
  }

  /** Records the open websocket of a tracked upgrade; one opened on a retired target is closed with 1012 at once. */
  attachWebSocket(socket: Socket, ws: WebSocket): void {
    if (this.upgrades.has(socket)) this.websockets.set(socket, ws);
    if (this.retired) ws.close(WS_CLOSE_SERVICE_RESTART, WS_CLOSE_SERVICE_RESTART_REASON);
  }

  /** Closes every websocket on this target with 1012 so clients reconnect elsewhere; returns how many. */
  closeWebSockets(): number {
    let n = 0;
    for (const socket of this.upgrades) {
      const ws = this.websockets.get(socket);
      if (ws) ws.close(WS_CLOSE_SERVICE_RESTART, WS_CLOSE_SERVICE_RESTART_REASON);
      else socket.destroy();
      n++;
    }
    return n;
  }
}
