import { NO_NOTIFICATIONS, type NotificationSink } from '../contracts/notification-sink.js';
import type { Logger } from '../log/logger.js';
import { BY_SCHEDULER, type LetsEncryptService } from './letsencrypt-service.js';

export interface RenewalSchedulerOptions {
  /** how often due apps are looked for */
  intervalMs: number;
  /** the first look after start */
  firstDelayMs: number;
}

/**
 * Renewals without cron: a timer in the control plane asks the Let's Encrypt service which apps
 * are due (state in SQLite, so backoff and rate-limit waits survive restarts) and renews them
 * one by one, held to the same backoff and per-app budget as commands (acme-order-gate.ts). A failure is logged and recorded by the service; the serving certificate stays.
 */
export class RenewalScheduler {
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;

  constructor(
    private readonly le: Pick<LetsEncryptService, 'dueApps' | 'issue'>,
    private readonly opts: RenewalSchedulerOptions,
    private readonly log: Logger,
    /** told cert.failed when a scheduled renewal fails */
    private readonly notify: NotificationSink = NO_NOTIFICATIONS,
  ) {}

  start(signal: AbortSignal): void {
    const schedule = (ms: number) => {
      if (signal.aborted) return;
      this.timer = setTimeout(() => {
        this.running = this.tick(signal).finally(() => {
          this.running = null;
          schedule(this.opts.intervalMs);
        });
      }, ms);
      this.timer.unref();
    };
    signal.addEventListener('abort', () => {
      if (this.timer) clearTimeout(this.timer);
    });
    schedule(this.opts.firstDelayMs);
  }

  /** One pass: renews every due app; resolves when done (tests and shutdown wait for it). */
  async tick(signal?: AbortSignal): Promise<void> {
    for (const app of this.le.dueApps()) {
      if (signal?.aborted) return;
      const log = this.log.child({ app });
      try {
        await this.le.issue(app, (line) => log.info({ step: line.trim() }, 'renewal'), false, BY_SCHEDULER);
      } catch (err) {
        log.warn({ err: (err as Error).message }, 'renewal failed; the current certificate keeps serving');
        const why = (err as Error).message.split('\n')[0];
        this.notify.notify({
          event: 'cert.failed',
          app,
          message: `certificate renewal failed: ${why}; the current certificate keeps serving`,
        });
      }
    }
  }

  idle(): Promise<void> {
    return this.running ?? Promise.resolve();
  }
}
