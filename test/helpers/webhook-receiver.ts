import http from 'node:http';
import type { AddressInfo } from 'node:net';

/** One request a WebhookReceiver got. */
export interface Received {
  path: string;
  headers: http.IncomingHttpHeaders;
  body: string;
  /** ms since the epoch */
  at: number;
  /** false for a /hang request */
  answered: boolean;
  /** true until the sender closes the connection (a /hang request the sender gave up on) */
  open: boolean;
}

/**
 * A local HTTP receiver for webhooks: `/ok…` answers 200, `/fail…` 500, `/hang…` never answers
 * (until close). Every request is recorded with its raw body, so a test checks signatures itself.
 */
export class WebhookReceiver {
  readonly received: Received[] = [];
  private readonly server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const r: Received = {
        path: req.url ?? '',
        headers: req.headers,
        body: Buffer.concat(chunks).toString('utf8'),
        at: Date.now(),
        answered: false,
        open: true,
      };
      this.received.push(r);
      res.on('close', () => {
        r.open = false;
      });
      if (r.path.startsWith('/hang')) return;
      r.answered = true;
      res.writeHead(r.path.startsWith('/fail') ? 500 : 200, { 'content-type': 'text/plain' });
      res.end(r.path.startsWith('/fail') ? 'receiver is broken\n' : 'ok\n');
    });
  });

  async listen(): Promise<this> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    return this;
  }

  url(path: string): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}${path}`;
  }

  /** Requests to paths starting with `prefix`, with their JSON body parsed. */
  to(prefix: string): Array<Received & { json: Record<string, unknown> }> {
    return this.received
      .filter((r) => r.path.startsWith(prefix))
      .map((r) => Object.assign(r, { json: JSON.parse(r.body) as Record<string, unknown> }));
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
