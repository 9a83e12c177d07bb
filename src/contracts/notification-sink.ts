// What happened that someone should be told: the events paas notifies about, and the one small
// interface the places they happen call. Emitters never know HTTP (src/notifications delivers).

/** Every event a notification can subscribe to (`notifications:add NAME URL --events a,b`). */
export const NOTIFICATION_EVENTS = [
  'deploy.succeeded',
  'deploy.failed',
  'app.crashed',
  'cert.failed',
  'backup.failed',
  'node.down',
  'cron.failed',
] as const;

export type NotificationEvent = (typeof NOTIFICATION_EVENTS)[number];

/** One event, as its emitter knows it; the sink adds the time, an id and the signature. */
export interface Notice {
  event: NotificationEvent;
  /** the app it concerns (none: an add-on's backup, a node) */
  app?: string | null;
  release?: number | null;
  /** node.down: paas's own name for the node */
  node?: string | null;
  /** backup.failed: `<type>:<name>` of the add-on */
  addon?: string | null;
  /** one line a person reads */
  message: string;
}

/**
 * Where emitters report events. `notify` returns at once and never throws: delivery (retries,
 * timeouts, a receiver that hangs) happens elsewhere and never holds up the caller.
 */
export interface NotificationSink {
  notify(notice: Notice): void;
}

/** A sink that drops everything (unit tests, `paas admin` paths that notify nobody). */
export const NO_NOTIFICATIONS: NotificationSink = { notify: () => {} };

/** What the Swarm work calls when a node stops answering (event `node.down`). */
export interface NodeEvents {
  nodeDown(node: string, reason: string): void;
}

/** NodeEvents over a sink: the one place node.down's message is worded. */
export function nodeEvents(sink: NotificationSink): NodeEvents {
  return { nodeDown: (node, reason) => sink.notify({ event: 'node.down', node, message: `node ${node} is down: ${reason}` }) };
}
