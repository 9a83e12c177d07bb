import net from 'node:net';
import { holdConnections, takeHeld } from './held-connections.js';

/**
 * The proxy's listening sockets, owned by the primary process: it accepts (without reading) and
 * hands each connection to a worker. Owning them is what lets a newer proxy take them over on an
 * upgrade (they are passed to it whole, so no connection is refused in between).
 */
export interface ListenSockets {
  http: net.Server;
  https: net.Server | null;
}

/** Binds `server` to host:port; the port it got (port 0: any free one). */
export function listen(server: net.Server, port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve((server.address() as net.AddressInfo).port);
    });
  });
}

/** Binds the ports; connections are held (unread) until acceptFrom() routes them. */
export async function bindListenSockets(host: string, httpPort: number, httpsPort: number | null): Promise<ListenSockets> {
  const http = net.createServer({ pauseOnConnect: true });
  holdConnections(http);
  await listen(http, httpPort, host);
  let https: net.Server | null = null;
  if (httpsPort !== null) {
    https = net.createServer({ pauseOnConnect: true });
    holdConnections(https);
    await listen(https, httpsPort, host).catch((err) => {
      http.close();
      throw err;
    });
  }
  return { http, https };
}

/** The ports the proxy got (0: that listener is off). */
export interface BoundPorts {
  http: number;
  https: number;
}

export function portsOf(s: ListenSockets): BoundPorts {
  const port = (server: net.Server | null) => (server?.address() as net.AddressInfo | null)?.port ?? 0;
  return { http: port(s.http), https: port(s.https) };
}

/** Routes the connections of `s` to `accept`; sockets stay paused until the worker reads them. */
export function acceptFrom(s: ListenSockets, accept: (socket: net.Socket, tls: boolean) => void): void {
  for (const [server, tls] of [
    [s.http, false],
    [s.https, true],
  ] as const) {
    if (!server) continue;
    // a server received over IPC was made without the option; it is read when the socket is made
    (server as net.Server & { pauseOnConnect: boolean }).pauseOnConnect = true;
    server.on('connection', (socket: net.Socket) => accept(socket, tls));
    // connections taken before this point (while the workers started, or by a server handed over)
    for (const socket of takeHeld(server)) accept(socket, tls);
  }
}

/** Stops accepting (the sockets stay open in any process they were handed to). */
export function closeListenSockets(s: ListenSockets): Promise<void> {
  const close = (server: net.Server | null) =>
    new Promise<void>((r) => {
      if (!server?.listening) return r();
      server.close(() => r());
    });
  return Promise.all([close(s.http), close(s.https)]).then(() => {});
}
