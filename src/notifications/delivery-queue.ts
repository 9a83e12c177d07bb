import type { Logger } from '../log/logger.js';
import { sleep } from '../util/sleep.js';
import type { SendResult } from './webhook-sender.js';

/** One event to deliver to one receiver: the body is fixed, each attempt signs it afresh. */
export interface Delivery {
  id: string;
  event: string;
  body: string;
}

/** How a delivery ended, after its last attempt. */
export interface DeliveryOutcome {
  event: string;
  ok: boolean;
  status: number | null;
  error: string | null;
  attempts: number;
  at: string;
}

export interface RetryPolicy {
  /** attempts per delivery, the first included */
  maxAttempts: number;
  /** the wait before the second attempt; doubles for each next one, up to maxDelayMs */
  baseDelayMs: number;
  maxDelayMs: number;
  /** deliveries waiting per receiver; past it the oldest waiting one is dropped (and counted) */
  maxQueued: number;
}

export interface DeliveryQueueDeps {
  attempt(receiver: string, d: Delivery, signal: AbortSignal): Promise<SendResult>;
  onOutcome(receiver: string, outcome: DeliveryOutcome): void;
  policy: RetryPolicy;
  log: Logger;
}

interface Lane {
  waiting: Delivery[];
  busy: boolean;
  dropped: number;
  stop: AbortController;
}

/**
 * An in-process queue per receiver: one delivery at a time to each (a receiver that hangs holds
 * only its own lane, for at most its timeouts), retried with exponential backoff up to
 * `maxAttempts`, at most `maxQueued` waiting. Enqueueing returns at once; nothing here is awaited
 * by the code that emits events. Deliveries do not survive a restart.
 */
export class DeliveryQueue {
  private readonly lanes = new Map<string, Lane>();

  constructor(private readonly deps: DeliveryQueueDeps) {}

  enqueue(receiver: string, d: Delivery): void {
    let lane = this.lanes.get(receiver);
    if (!lane) {
      lane = { waiting: [], busy: false, dropped: 0, stop: new AbortController() };
      this.lanes.set(receiver, lane);
    }
    if (lane.waiting.length >= this.deps.policy.maxQueued) {
      const old = lane.waiting.shift()!;
      lane.dropped++;
      this.deps.log.warn(
        { receiver, event: old.event, dropped: lane.dropped },
        'notification queue full: the oldest waiting delivery was dropped',
      );
    }
    lane.waiting.push(d);
    if (!lane.busy) void this.drain(receiver, lane);
  }

  /** Deliveries waiting or in flight for a receiver, and how many were dropped since the start. */
  stats(receiver: string): { queued: number; dropped: number } {
    const lane = this.lanes.get(receiver);
    return lane ? { queued: lane.waiting.length + (lane.busy ? 1 : 0), dropped: lane.dropped } : { queued: 0, dropped: 0 };
  }

  /** Forgets a receiver (removed): its waiting deliveries go, one in flight is cancelled. */
  forget(receiver: string): void {
    const lane = this.lanes.get(receiver);
    if (!lane) return;
    lane.waiting.length = 0;
    lane.stop.abort();
    this.lanes.delete(receiver);
  }

  close(): void {
    for (const name of [...this.lanes.keys()]) this.forget(name);
  }

  private async drain(receiver: string, lane: Lane): Promise<void> {
    lane.busy = true;
    try {
      for (let d = lane.waiting.shift(); d && !lane.stop.signal.aborted; d = lane.waiting.shift()) {
        const outcome = await this.deliver(receiver, d, lane.stop.signal);
        if (!lane.stop.signal.aborted) this.deps.onOutcome(receiver, outcome);
      }
    } catch (err) {
      this.deps.log.error({ err, receiver }, 'notification lane stopped');
    } finally {
      lane.busy = false;
    }
  }

  private async deliver(receiver: string, d: Delivery, signal: AbortSignal): Promise<DeliveryOutcome> {
    const { maxAttempts, baseDelayMs, maxDelayMs } = this.deps.policy;
    let attempts = 0;
    for (;;) {
      attempts++;
      const r = await this.deps.attempt(receiver, d, signal);
      const last = r.ok || !r.retry || attempts >= maxAttempts || signal.aborted;
      if (last) {
        if (!r.ok) this.deps.log.warn({ receiver, event: d.event, attempts, status: r.status, err: r.error }, 'notification not delivered');
        return { event: d.event, ok: r.ok, status: r.status, error: r.error, attempts, at: new Date().toISOString() };
      }
      const wait = Math.min(maxDelayMs, baseDelayMs * 2 ** (attempts - 1));
      this.deps.log.info(
        { receiver, event: d.event, attempts, status: r.status, err: r.error, retryMs: wait },
        'notification delivery failed; retrying',
      );
      await sleep(wait, signal);
    }
  }
}
