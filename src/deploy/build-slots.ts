import { BuildErrors } from '../builders/build-errors.js';
import type { BuildStepLimits } from '../builders/build-limits.js';
import type { BuildLimiter } from './build-limiter.js';
import { formatMemory, type ResourceTable } from './resource-limits.js';
import type { StageOutput } from './stage-output.js';

export interface BuildLimits {
  /** builds at once on this host (`builder:set --global concurrency N`) */
  concurrency: number;
  /** the free memory a build needs to start (`builder:set --global min-free-memory SIZE`); null: none */
  minFreeBytes: number | null;
}

export interface BuildSlotsOptions {
  /** read at every start, so a change applies to the next build */
  limits(): BuildLimits;
  /** the host's available memory in bytes */
  freeMemory(): number;
  /** how long a build waits for free memory before it is refused */
  memoryWaitMs: number;
  pollMs?: number;
  /** each build's memory, process and time limits (none: builds run unlimited) */
  limiter?: Pick<BuildLimiter, 'open'>;
  /** refuses with one line when the data dir or Docker's data root is below the free-disk floor */
  checkDisk?(what: string): Promise<void>;
}

interface Waiter {
  stage: StageOutput;
  wake(): void;
}

/**
 * Builds on this host, one at a time by default: a build over the limit waits in a FIFO queue
 * and its push is told its place (again whenever it moves up). With a slot, a build below the
 * free-memory floor waits for memory, then is refused with one line rather than started and
 * OOM-killed. Deploys of ready images (git:load-image, git:from-image) never queue here.
 */
export class BuildSlots {
  private running = 0;
  private readonly queue: Waiter[] = [];

  constructor(private readonly opts: BuildSlotsOptions) {}

  /** Runs `build` in a slot, under the limits made from the app's own memory limits (`appLimits`, resource:limit). */
  async run<T>(
    stage: StageOutput,
    signal: AbortSignal,
    build: (limits?: BuildStepLimits) => Promise<T>,
    appLimits: ResourceTable = {},
  ): Promise<T> {
    await this.acquire(stage, signal);
    try {
      await this.awaitMemory(stage, signal);
      await this.opts.checkDisk?.('the build was refused');
      if (!this.opts.limiter) return await build();
      const opened = await this.opts.limiter.open(appLimits);
      try {
        return await build(opened.limits);
      } finally {
        await opened.close();
      }
    } finally {
      this.running--;
      this.pump();
    }
  }

  /** builds running and waiting, for reports */
  status(): { running: number; queued: number } {
    return { running: this.running, queued: this.queue.length };
  }

  private acquire(stage: StageOutput, signal: AbortSignal): Promise<void> {
    if (this.queue.length === 0 && this.running < this.opts.limits().concurrency) {
      this.running++;
      return Promise.resolve();
    }
    return new Promise<void>((resolve, reject) => {
      const waiter: Waiter = {
        stage,
        wake: () => {
          signal.removeEventListener('abort', onAbort);
          resolve();
        },
      };
      const onAbort = () => {
        this.queue.splice(this.queue.indexOf(waiter), 1);
        this.announce();
        reject(BuildErrors.cancelled('cancelled while waiting for a build slot'));
      };
      signal.addEventListener('abort', onAbort, { once: true });
      this.queue.push(waiter);
      this.tell(waiter, this.queue.length);
    });
  }

  private pump(): void {
    let moved = false;
    while (this.queue.length > 0 && this.running < this.opts.limits().concurrency) {
      this.running++;
      this.queue.shift()!.wake();
      moved = true;
    }
    if (moved) this.announce();
  }

  private announce(): void {
    for (const [i, w] of this.queue.entries()) this.tell(w, i + 1);
  }

  private tell(w: Waiter, position: number): void {
    const n = this.opts.limits().concurrency;
    w.stage.stage(
      'queue',
      `Waiting for a build slot: position ${position} in the queue (${n} build${n === 1 ? '' : 's'} at a time; builder:set --global concurrency N)`,
    );
  }

  private async awaitMemory(stage: StageOutput, signal: AbortSignal): Promise<void> {
    const floor = this.opts.limits().minFreeBytes;
    if (floor === null) return;
    const deadline = Date.now() + this.opts.memoryWaitMs;
    let told = false;
    for (;;) {
      const free = this.opts.freeMemory();
      if (free >= floor) return;
      const line = `free memory ${formatMemory(free)} is below the build floor of ${formatMemory(floor)} (builder:set --global min-free-memory)`;
      if (Date.now() >= deadline)
        throw BuildErrors.lowMemory(
          `${line}; the build was refused rather than started and OOM-killed. Free memory or build elsewhere (git:load-image)`,
        );
      if (!told) stage.stage('memory', `Waiting up to ${Math.round(this.opts.memoryWaitMs / 1000)} s: ${line}`);
      told = true;
      if (signal.aborted) throw BuildErrors.cancelled('cancelled while waiting for free memory');
      await new Promise((r) => setTimeout(r, this.opts.pollMs ?? 1000));
    }
  }
}
