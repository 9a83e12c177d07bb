/** A Docker event of an app container, as the metrics need it. */
export interface ContainerEvent {
  action: string;
  app?: string;
  process?: string;
}

export interface ContainerEventSource {
  events(onEvent: (e: ContainerEvent & { id: string; time: number }) => void, signal: AbortSignal): void;
  /** whether paas's own call caused the event (a stop, a one-off) */
  isOwnEvent(e: ContainerEvent & { id: string; time: number }): boolean;
}

/**
 * Crashes and OOM kills per app and process type, counted from the engine's events: a `die` paas
 * did not cause itself (the engine's restart policy then starts it again) and an `oom`. Only apps
 * of this server count (another paas may share the engine).
 */
export class ContainerEventCounts {
  readonly restarts = new Map<string, number>();
  readonly oomKills = new Map<string, number>();

  constructor(private readonly isApp: (app: string) => boolean) {}

  start(source: ContainerEventSource, signal: AbortSignal): void {
    source.events((e) => {
      if (!e.app || !e.process || (e.action !== 'die' && e.action !== 'oom')) return;
      if (source.isOwnEvent(e) || !this.isApp(e.app)) return;
      const map = e.action === 'oom' ? this.oomKills : this.restarts;
      const key = `${e.app}\0${e.process}`;
      map.set(key, (map.get(key) ?? 0) + 1);
    }, signal);
  }
}

/** `app\0process` -> its labels. */
export function processLabels(key: string): { app: string; process: string } {
  const [app, process = ''] = key.split('\0');
  return { app, process };
}
