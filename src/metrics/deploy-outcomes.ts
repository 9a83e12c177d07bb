/** A deploy attempt as the database records it. */
export interface DeployRecord {
  id: number;
  app: string;
  status: 'running' | 'succeeded' | 'failed';
  release: number | null;
}

/** Where deploys are read from: attempts after an id, and a release's stage timings (ms). */
export interface DeployHistory {
  after(id: number): DeployRecord[];
  timings(app: string, release: number): Record<string, number> | undefined;
}

/** One finished deploy, seen once. */
export interface DeployOutcome {
  app: string;
  result: 'succeeded' | 'failed';
  /** stage name -> seconds */
  stages: Record<string, number>;
}

/**
 * Finished deploys, each reported once, read from the deploys table the pipeline already writes
 * (no call added to the deploy path): every scrape reads the rows after the oldest one still
 * running, and reports those that finished since. At start every recorded deploy is reported,
 * so the counters carry the host's whole history.
 */
export class DeployOutcomes {
  private low = 0;
  private readonly seen = new Set<number>();

  constructor(private readonly history: DeployHistory) {}

  take(): DeployOutcome[] {
    const out: DeployOutcome[] = [];
    let low = this.low;
    let blocked = false;
    for (;;) {
      const rows = this.history.after(low);
      if (rows.length === 0) break;
      for (const r of rows) {
        if (r.status === 'running') blocked = true;
        else if (!this.seen.has(r.id)) {
          this.seen.add(r.id);
          const timings = r.release === null ? undefined : this.history.timings(r.app, r.release);
          const stages: Record<string, number> = {};
          for (const [stage, ms] of Object.entries(timings ?? {})) stages[stage] = ms / 1000;
          out.push({ app: r.app, result: r.status, stages });
        }
        if (!blocked) this.low = r.id;
        low = r.id;
      }
    }
    for (const id of this.seen) if (id <= this.low) this.seen.delete(id);
    return out;
  }
}
