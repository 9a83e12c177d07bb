import type { DockerEvent } from '../../runtime/docker-events.js';
import { currentTask, type SwarmService, type SwarmTask } from './swarm-replica.js';
import { SWARM_LABELS } from './swarm-service-spec.js';

interface Seen {
  /** the task that ran at the last look (null: none ran) */
  running: string | null;
  /** its running task was lost and no new one runs yet */
  lost: boolean;
}

/**
 * Turns successive looks at the Swarm's services and tasks into replica events: `die` when the
 * task that ran is gone, failed or was replaced (a crash, or its node died and Swarm moved it),
 * `start` when a replica that lost its task runs again. A service seen for the first time, or
 * one starting for the first time, makes no event (its deploy handles it); one that disappeared
 * was removed and makes none either.
 */
export class TaskWatch {
  private readonly seen = new Map<string, Seen>();

  update(services: SwarmService[], tasks: SwarmTask[]): DockerEvent[] {
    const events: DockerEvent[] = [];
    const now = Math.floor(Date.now() / 1000);
    const present = new Set<string>();
    for (const s of services) {
      present.add(s.ID);
      const t = currentTask(tasks.filter((x) => x.ServiceID === s.ID));
      const running = t && t.Status?.State === 'running' && t.DesiredState === 'running' ? t.ID : null;
      const prev = this.seen.get(s.ID);
      const next: Seen = { running, lost: prev?.lost ?? false };
      if (prev?.running && running !== prev.running) {
        events.push(eventOf(s, 'die', now));
        next.lost = running === null;
        if (running) events.push(eventOf(s, 'start', now));
      } else if (prev?.lost && running) {
        events.push(eventOf(s, 'start', now));
        next.lost = false;
      }
      this.seen.set(s.ID, next);
    }
    for (const id of this.seen.keys()) if (!present.has(id)) this.seen.delete(id);
    return events;
  }

  /** Whether a replica lost its task and its replacement does not run yet (the watch then looks more often). */
  recovering(): boolean {
    for (const s of this.seen.values()) if (s.lost) return true;
    return false;
  }
}

function eventOf(s: SwarmService, action: string, time: number): DockerEvent {
  const l = s.Spec?.Labels ?? {};
  return {
    action,
    id: s.ID,
    time,
    ...(l[SWARM_LABELS.app] ? { app: l[SWARM_LABELS.app] } : {}),
    ...(l[SWARM_LABELS.process] ? { process: l[SWARM_LABELS.process] } : {}),
    ...(l[SWARM_LABELS.release] ? { release: Number(l[SWARM_LABELS.release]) } : {}),
    ...(l[SWARM_LABELS.replica] ? { replica: Number(l[SWARM_LABELS.replica]) } : {}),
  };
}
