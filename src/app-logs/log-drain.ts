import type { LogRecord } from './log-record.js';

/** What `logs:report` shows of a drain; counts since the server started or the drain was set. */
export interface DrainStats {
  url: string;
  /** lines handed to the receiver */
  sent: number;
  /** lines dropped: past the buffer, or in a batch the receiver refused or never answered */
  dropped: number;
  /** lines waiting in the buffer */
  queued: number;
  lastError: string | null;
}

/** One app's drain: `offer` queues and returns at once, whatever the receiver does. */
export interface LogDrain {
  offer(records: LogRecord[]): void;
  stats(): DrainStats;
  close(): void;
}
