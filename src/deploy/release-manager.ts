import { PassThrough } from 'node:stream';
import type { NotificationSink } from '../contracts/notification-sink.js';
import { userMessage } from '../errors/app-error.js';
import type { Logger } from '../log/logger.js';
import type { Release, ReleasesRepository } from '../state/releases-repository.js';
import type { AppJson } from './app-json.js';
import { DeployErrors } from './deploy-errors.js';
import type { ContainerSpec, RuntimePort } from './adapter-interfaces.js';
import type { Rollout } from './rollout.js';
import type { AppSettingsSnapshot } from './settings-schema.js';
import type { StageOutput } from './stage-output.js';
import { TailLines } from './tail-lines.js';

const KEEP_IMAGES = 5;
/** lines of a failed task's output repeated in the error */
const TASK_TAIL = 20;

export interface OneOffRunner {
  /** `commitAs`: on exit 0 the container's filesystem is committed as that image tag (predeploy) */
  runOneOff(
    spec: ContainerSpec,
    io: {
      tty: boolean;
      stdin: NodeJS.ReadableStream | null;
      stdout: NodeJS.WritableStream;
      stderr: NodeJS.WritableStream;
      signal: AbortSignal;
    },
    commitAs?: string,
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
  /** told how a derived release's rollout (config change, rollback, port) ended */
  notify?: NotificationSink;
}

/** Dokku's deployment tasks of one deploy (none: a config change, restart or rollback). */
export interface ReleaseHooks {
  /** app.json scripts.dokku.predeploy: before any container starts; its filesystem changes are committed into the release image */
  predeploy: string | null;
  /** Procfile `release:`: after predeploy, before any container starts; not committed */
  release: string | null;
  /** app.json scripts.dokku.postdeploy: after the switch, while the previous release is warm; failing switches back */
  postdeploy: string | null;
  /** app.json scripts.postdeploy: like postdeploy, only at the app's first successful deploy */
  firstDeploy: string | null;
}

/** The tasks of a deploy from its Procfile and app.json; `first`: the app has no live release yet. */
export function releaseHooks(procfile: Record<string, string>, appJson: AppJson | null, first: boolean): ReleaseHooks {
  return {
    predeploy: appJson?.predeploy ?? null,
    release: procfile.release ?? null,
    postdeploy: appJson?.postdeploy ?? null,
    firstDeploy: first ? (appJson?.firstDeploy ?? null) : null,
  };
}

/**
 * Makes a release the live one: deployment tasks, blue-green rollout, bookkeeping, image pruning.
 * Every path that changes what runs (push, config change, rollback, restart) ends here.
 */
export class ReleaseManager {
  constructor(private readonly deps: ReleaseDeps) {}

  hosts(app: string): string[] {
    return this.deps.rollout.hosts(app);
  }

  /**
   * Runs predeploy (committed into `paas/<app>:v<N>`) and the release task, rolls the release out,
   * and runs the postdeploy tasks inside the cutover's stability window: any failure leaves the
   * previous release serving and throws.
   */
  async activate(
    app: string,
    release: Release,
    stage: StageOutput,
    signal: AbortSignal,
    hooks: ReleaseHooks | null = null,
    opts: { warm?: boolean } = {},
  ): Promise<void> {
    let r = release;
    if (hooks?.predeploy) {
      const tag = `paas/${app}:v${r.version}`;
      await this.task(app, r, 'predeploy', hooks.predeploy, stage, signal, tag);
      stage.info(`filesystem changes committed into ${tag}`);
      if (r.image !== tag) {
        this.deps.releases.update(app, r.version, { image: tag });
        r = { ...r, image: tag };
      }
    }
    if (hooks?.release) await this.task(app, r, 'release task', hooks.release, stage, signal);
    const after = [
      ['postdeploy', hooks?.postdeploy],
      ['postdeploy (first deploy)', hooks?.firstDeploy],
    ].filter((t): t is [string, string] => !!t[1]);
    const afterSwitch = after.length
      ? async (window: AbortSignal) => {
          for (const [name, command] of after) await this.task(app, r, name, command, stage, window);
        }
      : undefined;
    await this.deps.rollout.release(app, r, stage, signal, afterSwitch, opts);
    this.deps.releases.markLive(app, r.version);
    // pruning is housekeeping: it must not hold up the push or the lock (errors are logged)
    void this.prune(app);
  }

  /** One deployment task in a one-off container of the release, its output streamed to the push; a non-zero exit throws with its last lines. */
  private async task(
    app: string,
    release: Release,
    name: string,
    command: string,
    stage: StageOutput,
    signal: AbortSignal,
    commitAs?: string,
  ): Promise<void> {
    stage.stage(name.replace(/\W+/g, '-').replace(/-$/, ''), `Running ${name}: ${command}`);
    const spec = {
      ...this.deps.rollout.spec(app, release, name.split(' ')[0]!, 1, this.deps.settings(app)),
      command,
      restart: { policy: 'no' as const },
    };
    const stdin = new PassThrough();
    stdin.end();
    const tail = new TailLines(stage.out, TASK_TAIL);
    const code = await this.deps.runtime.runOneOff(spec, { tty: false, stdin, stdout: tail, stderr: tail, signal }, commitAs);
    if (code !== 0) throw DeployErrors.taskFailed(name, code, tail.text());
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

  /** A new release from the live one with some fields changed (config, rollback), activated; `opts.warm`: from the warm release when it matches (rollback). */
  async derive(
    app: string,
    from: Release,
    patch: Partial<
      Pick<Release, 'config' | 'formation' | 'image' | 'processes' | 'port' | 'appChecks' | 'sourceImage' | 'commitSha' | 'formationLock'>
    >,
    description: string,
    stage: StageOutput,
    signal: AbortSignal,
    opts: { warm?: boolean } = {},
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
      formationLock: patch.formationLock !== undefined ? patch.formationLock : from.formationLock,
    });
    try {
      await this.activate(app, r, stage, signal, null, opts);
      this.deps.notify?.notify({
        event: 'deploy.succeeded',
        app,
        release: r.version,
        message: `${description}: release v${r.version} is live`,
      });
      return r;
    } catch (err) {
      this.deps.releases.update(app, r.version, { status: 'failed' });
      const why = userMessage(err).split('\n')[0];
      this.deps.notify?.notify({
        event: 'deploy.failed',
        app,
        release: r.version,
        message: `${description} failed: ${why}; v${from.version} keeps serving`,
      });
      throw err;
    }
  }
}
