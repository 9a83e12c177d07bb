import type { Readable } from 'node:stream';
import type Dockerode from 'dockerode';
import type { NotificationSink } from '../contracts/notification-sink.js';
import type { Logger } from '../log/logger.js';
import { baseCreateOptions, containerName, LABELS, specLabels, validateSpec } from '../runtime/container-naming.js';
import type { ContainerSpec } from '../runtime/container-spec.js';
import { errMessage, statusOf } from '../runtime/docker-error-details.js';
import { FrameParser } from '../runtime/docker-frames.js';
import type { CronRepository, CronRun, CronRunResult } from '../state/cron-repository.js';
import type { Release } from '../state/releases-repository.js';
import { CronErrors } from './cron-errors.js';
import { commandWords, type CronTask } from './cron-task.js';

/** The label that ties a cron container to its task id (and `paas.cron.run` to its run). */
export const CRON_LABELS = { task: 'paas.cron.task', run: 'paas.cron.run' } as const;
/** Finished containers kept per task, so `logs -p cron` still shows the last runs' output. */
export const KEPT_CONTAINERS = 3;
/** Run rows kept per task. */
const KEPT_RUNS = 50;
/** Grace before a replaced or timed-out run is killed. */
const STOP_GRACE_S = 10;

export interface CronRunnerDeps {
  docker: Dockerode;
  /** `claim`: the run's container events are paas's own (the event watcher does not converge the app for them) */
  runtime: { ensureNetwork(app: string): Promise<void>; appNetwork(app: string): string; claim(id: string): void };
  /** labels on everything paas creates (tests mark theirs) */
  extraLabels: Record<string, string>;
  repo: CronRepository;
  /** the container of one process of a release, with the app's config, limits and mounts (Rollout.spec) */
  specOf(app: string, release: Release, process: string, replica: number): ContainerSpec;
  /** the app's time limit of a run, in seconds (cron:set timeout) */
  timeoutOf(app: string): number;
  log: Logger;
  now?: () => number;
  /** told cron.failed when a run fails, times out or is lost */
  notify?: NotificationSink;
}

export type StartOutcome = { run: CronRun; skipped: false } | { run: null; skipped: true; reason: string };

/**
 * Runs cron tasks: each run is a detached container of one release's image with the app's config,
 * process type `cron`, labelled one-off so no deploy, scale or recovery stops it (it finishes on
 * the release it started with). The runs' rows are the truth: `check()` (every second in the
 * control plane) records how each ended, stops the ones past their time limit, and prunes old
 * containers, so a restarted control plane picks running ones up again.
 */
export class CronRunner {
  private readonly now: () => number;
  /** runs being stopped (replace, time limit): their result is already decided */
  private readonly stopping = new Map<number, CronRunResult>();

  constructor(private readonly deps: CronRunnerDeps) {
    this.now = deps.now ?? Date.now;
  }

  /** Applies the task's concurrency policy, then starts a run on `release`. */
  async start(app: string, task: CronTask, release: Release, trigger: string): Promise<StartOutcome> {
    const { repo, log } = this.deps;
    const active = await this.activeRuns(app, task.id);
    if (active.length && task.concurrencyPolicy === 'forbid') {
      const reason = `run #${active[0]!.id} of this task is still running (concurrency_policy forbid)`;
      const at = new Date(this.now()).toISOString();
      const id = repo.startRun({ app, taskId: task.id, release: release.version, trigger, startedAt: at, deadline: at, result: 'skipped' });
      repo.finishRun(id, 'skipped', null, at);
      log.info({ app, task: task.id, running: active[0]!.id }, 'cron run skipped: the previous one is still running');
      return { run: null, skipped: true, reason };
    }
    if (active.length && task.concurrencyPolicy === 'replace') await Promise.all(active.map((r) => this.stopRun(r, 'replaced')));

    const startedAt = this.now();
    const deadline = new Date(startedAt + this.deps.timeoutOf(app) * 1000).toISOString();
    const runId = repo.startRun({
      app,
      taskId: task.id,
      release: release.version,
      trigger,
      startedAt: new Date(startedAt).toISOString(),
      deadline,
      result: 'running',
    });
    try {
      const id = await this.createAndStart(app, task, release, runId);
      repo.setContainer(runId, id);
      log.info({ app, task: task.id, run: runId, release: release.version, trigger }, 'cron run started');
    } catch (err) {
      repo.finishRun(runId, 'error', null, new Date(this.now()).toISOString());
      log.warn({ err, app, task: task.id, run: runId }, 'cron run could not start');
      throw err;
    } finally {
      repo.prune(app, task.id, KEPT_RUNS);
    }
    return { run: repo.run(runId)!, skipped: false };
  }

  private async createAndStart(app: string, task: CronTask, release: Release, runId: number): Promise<string> {
    const { docker, runtime, extraLabels } = this.deps;
    if (!release.image) throw CronErrors.startFailed(`release v${release.version} of '${app}' has no image`);
    const { command: _procfileCommand, ...base } = this.deps.specOf(app, release, 'cron', runId);
    const spec: ContainerSpec = { ...base, restart: { policy: 'no' } };
    validateSpec(spec);
    await runtime.ensureNetwork(app);
    const labels = {
      ...specLabels(spec, extraLabels),
      [LABELS.oneOff]: '1',
      [CRON_LABELS.task]: task.id,
      [CRON_LABELS.run]: String(runId),
    };
    const opts = baseCreateOptions(spec, runtime.appNetwork(app), labels, true, null);
    let container: Dockerode.Container;
    try {
      container = await docker.createContainer({
        ...opts,
        name: containerName(spec),
        // the words, with no shell: the image's ENTRYPOINT (if any) gets them as arguments, as with `docker run`
        Cmd: commandWords(task.command),
        Tty: false,
        HostConfig: { ...opts.HostConfig, RestartPolicy: { Name: 'no' } },
      });
    } catch (e) {
      const what = statusOf(e) === 404 ? `image ${spec.image} is not on this host` : errMessage(e);
      throw CronErrors.startFailed(`cannot create the cron container of ${app}: ${what}`, e);
    }
    runtime.claim(container.id);
    try {
      await container.start();
    } catch (e) {
      throw CronErrors.startFailed(`cannot start the cron container of ${app}: ${errMessage(e)}`, e);
    }
    return container.id;
  }

  /** Runs of a task whose container is still running (rows of runs that ended unseen are settled on the way). */
  async activeRuns(app: string, taskId: string): Promise<CronRun[]> {
    const out: CronRun[] = [];
    for (const r of this.deps.repo.running()) {
      if (r.app !== app || r.taskId !== taskId || this.stopping.has(r.id)) continue;
      if ((await this.settle(r)) === 'running') out.push(r);
    }
    return out;
  }

  /** One pass over every running run: record the ended, stop those past their deadline, prune. */
  async check(): Promise<void> {
    for (const r of this.deps.repo.running()) {
      if (this.stopping.has(r.id)) continue;
      try {
        const state = await this.settle(r);
        if (state === 'running' && Date.parse(r.deadline) <= this.now()) {
          this.deps.log.warn({ app: r.app, task: r.taskId, run: r.id }, 'cron run reached its time limit: stopping it');
          await this.stopRun(r, 'timed-out');
        }
      } catch (err) {
        this.deps.log.warn({ err, app: r.app, run: r.id }, 'cron run check failed');
      }
    }
  }

  /** Records a run that ended; 'running' while its container runs. */
  private async settle(r: CronRun): Promise<'running' | 'ended'> {
    if (!r.container) {
      // created by another process a moment ago, or it never got a container: give it a minute
      if (Date.parse(r.startedAt) + 60_000 > this.now()) return 'running';
      this.deps.repo.finishRun(r.id, 'lost', null, new Date(this.now()).toISOString());
      return 'ended';
    }
    const info = await this.inspect(r.container);
    if (info?.State.Running) return 'running';
    const code = info ? info.State.ExitCode : null;
    const result: CronRunResult = !info ? 'lost' : code === 0 ? 'succeeded' : 'failed';
    this.finish(r, result, code);
    return 'ended';
  }

  private finish(r: CronRun, result: CronRunResult, code: number | null): void {
    this.deps.repo.finishRun(r.id, result, code, new Date(this.now()).toISOString());
    const log = result === 'succeeded' ? this.deps.log.info.bind(this.deps.log) : this.deps.log.warn.bind(this.deps.log);
    log({ app: r.app, task: r.taskId, run: r.id, result, exitCode: code }, 'cron run ended');
    if (result === 'failed' || result === 'timed-out' || result === 'lost') {
      const how = result === 'failed' ? `exited ${code}` : result === 'timed-out' ? 'ran past its time limit' : 'lost its container';
      this.deps.notify?.notify({
        event: 'cron.failed',
        app: r.app,
        release: r.release,
        message: `cron task ${r.taskId} of ${r.app} (run ${r.id}) ${how}`,
      });
    }
    void this.pruneContainers(r.app, r.taskId);
  }

  /** Stops a run's container (grace, then kill) and records `result`. */
  private async stopRun(r: CronRun, result: 'replaced' | 'timed-out'): Promise<void> {
    this.stopping.set(r.id, result);
    try {
      if (r.container) {
        await this.deps.docker
          .getContainer(r.container)
          .stop({ t: STOP_GRACE_S })
          .catch((e) => {
            if (statusOf(e) !== 304 && statusOf(e) !== 404) throw e;
          });
      }
      const info = r.container ? await this.inspect(r.container) : null;
      this.finish(r, result, info ? info.State.ExitCode : null);
    } finally {
      this.stopping.delete(r.id);
    }
  }

  /** The run's output until its container exits (`cron:run` attached); resolves with its exit code. */
  async follow(run: CronRun, out: NodeJS.WritableStream, err: NodeJS.WritableStream, signal: AbortSignal): Promise<number | null> {
    if (!run.container) return null;
    const c = this.deps.docker.getContainer(run.container);
    const stream = (await c.logs({ follow: true, stdout: true, stderr: true })) as unknown as Readable;
    const frames = new FrameParser((s, d) => (s === 'stderr' ? err : out).write(d));
    const onAbort = () => stream.destroy();
    signal.addEventListener('abort', onAbort, { once: true });
    try {
      await new Promise<void>((resolve) => {
        stream.on('data', (d: Buffer) => frames.push(d));
        stream.on('end', resolve);
        stream.on('close', resolve);
        stream.on('error', () => resolve());
      });
      frames.end();
    } finally {
      signal.removeEventListener('abort', onAbort);
    }
    if (signal.aborted) return null;
    const info = await this.inspect(run.container);
    if (!info || info.State.Running) return null;
    // a run being stopped (time limit, replace) is recorded by the stop itself
    if (!this.stopping.has(run.id)) await this.settle(this.deps.repo.run(run.id) ?? run);
    return info.State.ExitCode;
  }

  /** Removes all but the newest KEPT_CONTAINERS finished containers of a task. */
  async pruneContainers(app: string, taskId: string): Promise<void> {
    const { docker, extraLabels } = this.deps;
    try {
      const own = Object.entries(extraLabels).map(([k, v]) => (v ? `${k}=${v}` : k));
      const list = await docker.listContainers({
        all: true,
        filters: { label: [`${LABELS.app}=${app}`, `${CRON_LABELS.task}=${taskId}`, ...own], status: ['exited', 'dead'] },
      });
      const old = list.sort((a, b) => b.Created - a.Created).slice(KEPT_CONTAINERS);
      await Promise.all(
        old.map((c) =>
          docker
            .getContainer(c.Id)
            .remove({ force: true })
            .catch(() => undefined),
        ),
      );
    } catch (err) {
      this.deps.log.warn({ err, app, task: taskId }, 'cannot prune old cron containers');
    }
  }

  private async inspect(id: string): Promise<Dockerode.ContainerInspectInfo | null> {
    try {
      return await this.deps.docker.getContainer(id).inspect();
    } catch (e) {
      if (statusOf(e) === 404) return null;
      throw e;
    }
  }
}
