import { PassThrough } from 'node:stream';
import type { Logger } from '../log/logger.js';
import type { Release, ReleasesRepository } from '../state/releases-repository.js';
import { DeployErrors } from './deploy-errors.js';
import type { ContainerSpec, RuntimePort } from './ports.js';
import type { Rollout } from './rollout.js';
import type { AppSettingsSnapshot } from './settings-schema.js';
import type { StageOutput } from './stage-output.js';

const KEEP_IMAGES = 5;

export interface OneOffRunner {
  runOneOff(
    spec: ContainerSpec,
    io: {
      tty: boolean;
      stdin: NodeJS.ReadableStream | null;
      stdout: NodeJS.WritableStream;
      stderr: NodeJS.WritableStream;
      signal: AbortSignal;
    },
  ): Promise<number>;
}

/** The release rows a ReleaseManager reads and writes. */
export type ReleaseRows = Pick<ReleasesRepository, 'create' | 'update' | 'markLive' | 'list'>;

/** What a ReleaseManager needs of the rollout and of the app's state. */
export interface ReleaseDeps {
  releases: ReleaseRows;
  formation(app: string): Record<string, number>;
  settings(app: string): AppSettingsSnapshot;
  rollout: Pick<Rollout, 'release' | 'spec' | 'hosts'>;
  runtime: Pick<RuntimePort, 'removeImages' | 'pruneDanglingImages'> & OneOffRunner;
  log: Logger;
}

export interface ReleaseHooks {
  /** Procfile `release:` or app.json predeploy: runs once before the cutover; failing aborts */
  releaseTask: string | null;
  postdeploy: string | null;
}

/**
 * Makes a release the live one: release task, blue-green rollout, bookkeeping, image pruning.
 * Every path that changes what runs (push, config change, rollback, restart) ends here.
 */
export class ReleaseManager {
  constructor(private readonly deps: ReleaseDeps) {}

  hosts(app: string): string[] {
    return this.deps.rollout.hosts(app);
  }

  async activate(app: string, release: Release, stage: StageOutput, signal: AbortSignal, hooks: ReleaseHooks | null = null): Promise<void> {
    if (hooks?.releaseTask) {
      stage.stage('release-task', `Running release task: ${hooks.releaseTask}`);
      const code = await this.task(app, release, hooks.releaseTask, stage, signal);
      if (code !== 0) throw DeployErrors.releaseTaskFailed(code, '');
    }
    await this.deps.rollout.release(app, release, stage, signal);
    this.deps.releases.markLive(app, release.version);
    if (hooks?.postdeploy) {
      stage.stage('postdeploy', `Running postdeploy: ${hooks.postdeploy}`);
      const code = await this.task(app, release, hooks.postdeploy, stage, signal);
      if (code !== 0) stage.info(`postdeploy exited with code ${code} (the release stays live)`);
    }
    // pruning is housekeeping: it must not hold up the push or the lock (errors are logged)
    void this.prune(app);
  }

  private task(app: string, release: Release, command: string, stage: StageOutput, signal: AbortSignal): Promise<number> {
    const spec = {
      ...this.deps.rollout.spec(app, release, 'release', 1, this.deps.settings(app)),
      command,
      restart: { policy: 'no' as const },
    };
    const stdin = new PassThrough();
    stdin.end();
    return this.deps.runtime.runOneOff(spec, { tty: false, stdin, stdout: stage.out, stderr: stage.out, signal });
  }

  /** Keeps the images of the newest KEEP_IMAGES releases; removes the others and dangling layers. */
  async prune(app: string): Promise<void> {
    try {
      const all = this.deps.releases.list(app, 1000).filter((r) => r.image);
      const keep = new Set(all.slice(0, KEEP_IMAGES).map((r) => r.image!));
      const drop = [...new Set(all.slice(KEEP_IMAGES).map((r) => r.image!))].filter((i) => !keep.has(i));
      if (drop.length) await this.deps.runtime.removeImages(drop);
      // untagged images younger than an hour may be the layers of a build running right now
      await this.deps.runtime.pruneDanglingImages('1h');
    } catch (err) {
      this.deps.log.warn({ err, app }, 'image prune failed');
    }
  }

  /** A new release from the live one with some fields changed (config, rollback), activated. */
  async derive(
    app: string,
    from: Release,
    patch: Partial<Pick<Release, 'config' | 'formation' | 'image' | 'processes' | 'port' | 'appChecks' | 'sourceImage' | 'commitSha'>>,
    description: string,
    stage: StageOutput,
    signal: AbortSignal,
  ): Promise<Release> {
    const r = this.deps.releases.create({
      app,
      image: patch.image ?? from.image,
      commitSha: patch.commitSha !== undefined ? patch.commitSha : from.commitSha,
      description,
      config: patch.config ?? from.config,
      formation: patch.formation ?? this.deps.formation(app),
      status: 'deploying',
      builder: from.builder,
      processes: patch.processes ?? from.processes,
      port: patch.port ?? from.port,
      appChecks: patch.appChecks !== undefined ? patch.appChecks : from.appChecks,
      sourceImage: patch.sourceImage !== undefined ? patch.sourceImage : from.sourceImage,
    });
    try {
      await this.activate(app, r, stage, signal);
      return r;
    } catch (err) {
      this.deps.releases.update(app, r.version, { status: 'failed' });
      throw err;
    }
  }
}
