import fs from 'node:fs';
import net from 'node:net';

/**
 * A root-only local control socket: a stale socket file is replaced, the new one gets mode 600,
 * and close() removes the file so clients can tell that nobody listens. Subclasses handle the
 * connections (the admin socket).
 */
export abstract class UnixSocketServer {
  private server: net.Server | null = null;

  constructor(private readonly socketPath: string) {}

  protected abstract onConnection(conn: net.Socket): void;

  async listen(): Promise<void> {
    fs.rmSync(this.socketPath, { force: true });
    const server = net.createServer((conn) => this.onConnection(conn));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.socketPath, () => resolve());
    });
    fs.chmodSync(this.socketPath, 0o600);
    this.server = server;
  }

  close(): Promise<void> {
    fs.rmSync(this.socketPath, { force: true });
    return new Promise((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}
