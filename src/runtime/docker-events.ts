import type Dockerode from 'dockerode';
import type { Logger } from '../log/logger.js';
import { LineSplitter } from '../util/json-lines.js';
import { LABELS } from './container-naming.js';
import { errMessage } from './docker-error-details.js';

export interface DockerEvent {
  /** start, die, stop, kill, oom, destroy, health_status: healthy, … */
  action: string;
  id: string;
  app?: string;
  process?: string;
  release?: number;
  replica?: number;
  /** for `die` */
  exitCode?: number;
  /** unix seconds */
  time: number;
}

interface RawEvent {
  Type?: string;
  Action?: string;
  status?: string;
  id?: string;
  time?: number;
  Actor?: { ID?: string; Attributes?: Record<string, string> };
}

export function parseDockerEvent(raw: RawEvent): DockerEvent | null {
  if (raw.Type && raw.Type !== 'container') return null;
  const id = raw.Actor?.ID ?? raw.id;
  const action = raw.Action ?? raw.status;
  if (!id || !action) return null;
  const a = raw.Actor?.Attributes ?? {};
  const ev: DockerEvent = { action, id, time: raw.time ?? Math.floor(Date.now() / 1000) };
  if (a[LABELS.app]) ev.app = a[LABELS.app];
  if (a[LABELS.process]) ev.process = a[LABELS.process];
  if (a[LABELS.release]) ev.release = Number(a[LABELS.release]);
  if (a[LABELS.replica]) ev.replica = Number(a[LABELS.replica]);
  if (a.exitCode !== undefined) ev.exitCode = Number(a.exitCode);
  return ev;
}

/**
 * Follows `GET /events` for containers labelled paas.app and calls `onEvent` for each, until
 * `signal` aborts. When the stream breaks (dockerd restarted) it reconnects with backoff, asking
 * for events `since` the last one seen so none are lost across the gap.
 */
export function watchDockerEvents(
  docker: Dockerode,
  log: Logger,
  onEvent: (e: DockerEvent) => void,
  signal: AbortSignal,
  /** called each time the stream is (re)established; `reconnected` is false the first time */
  onConnect?: (reconnected: boolean) => void,
): void {
  let since = Math.floor(Date.now() / 1000);
  let backoff = 500;
  let connects = 0;

  const connect = async (): Promise<void> => {
    if (signal.aborted) return;
    let stream: NodeJS.ReadableStream & { destroy?: () => void };
    try {
      stream = await docker.getEvents({ since, filters: { type: ['container'], label: [LABELS.app] } } as Dockerode.GetEventsOptions);
    } catch (e) {
      log.warn({ err: errMessage(e), retryMs: backoff }, 'docker events unavailable; retrying');
      retry();
      return;
    }
    backoff = 500;
    onConnect?.(connects++ > 0);
    const onAbort = () => stream.destroy?.();
    signal.addEventListener('abort', onAbort, { once: true });
    const lines = new LineSplitter();
    stream.on('data', (chunk: Buffer) => {
      for (const raw of lines.push(chunk)) {
        const line = raw.trim();
        if (!line) continue;
        try {
          const ev = parseDockerEvent(JSON.parse(line) as RawEvent);
          if (!ev) continue;
          since = Math.max(since, ev.time);
          onEvent(ev);
        } catch (e) {
          log.warn({ err: errMessage(e) }, 'bad docker event line');
        }
      }
    });
    let ended = false;
    const onEnd = () => {
      if (ended) return;
      ended = true;
      signal.removeEventListener('abort', onAbort);
      if (!signal.aborted) {
        log.warn({ retryMs: backoff }, 'docker events stream ended; reconnecting');
        retry();
      }
    };
    stream.on('end', onEnd);
    stream.on('close', onEnd);
    stream.on('error', onEnd);
  };

  const retry = () => {
    if (signal.aborted) return;
    const t = setTimeout(() => void connect(), backoff);
    backoff = Math.min(backoff * 2, 10_000);
    signal.addEventListener('abort', () => clearTimeout(t), { once: true });
  };

  void connect();
}
