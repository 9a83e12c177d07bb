import pino, { type Logger } from 'pino';

export type { Logger };

/** The daemon's logger: JSON lines to stderr (or a file given by the caller), at `level` (default info). */
export function createLogger(opts: { level?: string; destination?: string } = {}): Logger {
  const level = opts.level ?? 'info';
  const dest = opts.destination ? pino.destination({ dest: opts.destination, sync: false, mkdir: true }) : pino.destination(2);
  return pino({ level, base: { pid: process.pid } }, dest);
}

/** A logger that discards everything, for unit tests and quiet paths. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
