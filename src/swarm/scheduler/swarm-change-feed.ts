import type Dockerode from 'dockerode';
import type { Logger } from '../../log/logger.js';
import { errMessage } from '../../runtime/docker-error-details.js';
import { LineSplitter } from '../../util/json-lines.js';
import { sleep } from '../../util/sleep.js';

/** What a Swarm event says, as far as the task watch cares: a node changed state (`down`, `ready`) or something else of the Swarm changed. */
export interface SwarmChange {
  type: string;
  action: string;
  /** `state.new` of a node event (`down`, `ready`, `disconnected`), if any */
  state?: string;
}

export function parseSwarmChange(line: string): SwarmChange | null {
  try {
    const raw = JSON.parse(line) as { Type?: string; Action?: string; Actor?: { Attributes?: Record<string, string> } };
    if (!raw.Type || !raw.Action) return null;
    const state = raw.Actor?.Attributes?.['state.new'];
    return { type: raw.Type, action: raw.Action, ...(state ? { state } : {}) };
  } catch {
    return null;
  }
}

/**
 * Follows the engine's node and service events (`GET /events`, one open stream) and calls
 * `onChange` for each, until `signal` aborts; a broken stream is opened again (0.5 s doubling to
 * 10 s). A node the manager marks down is reported the moment Swarm decides it, so the task watch
 * reads the tasks then instead of at its next poll. Docker 20.10 sends no task events: the
 * replacement task's start is still found by reading task states.
 */
export function followSwarmChanges(docker: Dockerode, log: Logger, onChange: (c: SwarmChange) => void, signal: AbortSignal): void {
  void (async () => {
    for (let backoff = 500; !signal.aborted; backoff = Math.min(backoff * 2, 10_000)) {
      try {
        const stream = (await docker.getEvents({
          filters: { type: ['node', 'service'] },
        } as Dockerode.GetEventsOptions)) as NodeJS.ReadableStream & AsyncIterable<Buffer> & { destroy?: () => void };
        backoff = 500;
        const stop = () => stream.destroy?.();
        signal.addEventListener('abort', stop, { once: true });
        const lines = new LineSplitter();
        try {
          for await (const chunk of stream)
            for (const line of lines.push(chunk)) {
              const c = line.trim() ? parseSwarmChange(line) : null;
              if (c) onChange(c);
            }
        } finally {
          signal.removeEventListener('abort', stop);
        }
      } catch (e) {
        if (!signal.aborted) log.debug({ err: errMessage(e), retryMs: backoff }, 'swarm events unavailable; retrying');
      }
      await sleep(backoff, signal);
    }
  })();
}
