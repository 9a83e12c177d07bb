import type net from 'node:net';

const kHeld = Symbol('paasHeldConnections');
type HoldingServer = net.Server & { [kHeld]?: { sockets: net.Socket[]; listener: (s: net.Socket) => void } };

/**
 * A received server accepts at once: its connections are kept (paused, unread) until the proxy
 * is ready to serve them (takeHeld), so none is accepted without a handler.
 */
export function holdConnections(server: net.Server): void {
  (server as net.Server & { pauseOnConnect: boolean }).pauseOnConnect = true;
  const sockets: net.Socket[] = [];
  const listener = (socket: net.Socket) => sockets.push(socket);
  server.on('connection', listener);
  (server as HoldingServer)[kHeld] = { sockets, listener };
}

/** Stops holding `server`'s connections and returns those that arrived meanwhile. */
export function takeHeld(server: net.Server): net.Socket[] {
  const held = (server as HoldingServer)[kHeld];
  if (!held) return [];
  server.off('connection', held.listener);
  (server as HoldingServer)[kHeld] = undefined;
  return held.sockets;
}
