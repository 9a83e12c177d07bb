import type { Logger } from '../log/logger.js';
import { HttpDrain } from './http-drain.js';
import type { DrainStats, LogDrain } from './log-drain.js';
import { parseDrainUrl } from './drain-url.js';
import type { LogRecord } from './log-record.js';
import type { DrainOptions } from './queued-drain.js';
import { SyslogDrain } from './syslog-drain.js';

/** Every app's drain (at most one each), made from its URL and replaced when the URL changes. */
export class LogDrains {
  private readonly drains = new Map<string, LogDrain>();

  constructor(
    private readonly opts: DrainOptions,
    private readonly log: Logger,
  ) {}

  /** Sets (or with null removes) an app's drain; the URL was checked when it was stored. */
  set(app: string, url: string | null): void {
    this.drains.get(app)?.close();
    this.drains.delete(app);
    if (url === null) return;
    const target = parseDrainUrl(url);
    const log = this.log.child({ app });
    this.drains.set(
      app,
      target.kind === 'http' || target.kind === 'https'
        ? new HttpDrain(app, target, this.opts, log)
        : new SyslogDrain(app, target, this.opts, log),
    );
  }

  ship(app: string, records: LogRecord[]): void {
    this.drains.get(app)?.offer(records);
  }

  stats(app: string): DrainStats | null {
    return this.drains.get(app)?.stats() ?? null;
  }

  closeAll(): void {
    for (const d of this.drains.values()) d.close();
    this.drains.clear();
  }
}
