import fs from 'node:fs';
import path from 'node:path';
import type { Writable } from 'node:stream';
import type { Builder } from '../builders/builder.js';
import type { BuildStepLimits } from '../builders/build-limits.js';
import { resolveInside } from '../builders/source-paths.js';
import { readTreeFile } from '../builders/tree-file.js';
import { NO_NOTIFICATIONS, type NotificationSink } from '../contracts/notification-sink.js';
import { userMessage } from '../errors/app-error.js';
import { exportCommit, resolveRef } from '../git/export-commit.js';
import { type HookRequest, type RefUpdate, ZERO_SHA } from '../git/hook-protocol.js';
import type { PushSession } from '../git/hook-channel.js';
import type { Logger } from '../log/logger.js';
import type { KeyRole } from '../state/ssh-keys-repository.js';
import type { State } from '../state/state.js';
import { checkFormationMax, parseAppJson } from './app-json.js';
import type { AppSettingsStore } from './app-settings-store.js';
import type { BuildSlots } from './build-slots.js';
import { parseProcfile } from './procfile.js';
import { type ReleaseManager, releaseHooks } from './release-manager.js';
import { ReleaseLogRecorder } from './release-log.js';
import { deployFormation, lockedTypes } from './deploy-formation.js';
import { StageOutput } from './stage-output.js';
import { webPort } from './web-port.js';

export interface BuilderSelector {
  /** `dockerfile`: the Dockerfile's path in `sourceDir` (`builder:set dockerfile-path`; default `Dockerfile`) */
  select(sourceDir: string, forced: string | null, dockerfile?: string): Promise<Builder>;
}

/**
 * A `git push` to the deploy branch: export the pushed commit, build it, record the release, roll
 * it out. Runs inside the pre-receive hook, so a non-zero result rejects the push.
 */
export class PushDeploy {
  constructor(
    private readonly state: State,
    private readonly settings: Pick<AppSettingsStore, 'snapshot' | 'write'>,
    private readonly builders: BuilderSelector,
    private readonly releases: ReleaseManager,
    private readonly buildsDir: string,
    private readonly log: Logger,
    /** labels put on every image (tests mark theirs for cleanup) */
    private readonly extraLabels: Record<string, string> = {},
    /** where each release's deploy output is kept (none: not kept) */
    private readonly releaseLog: ((app: string, version: number) => string) | null = null,
    /** the host's build queue and memory floor (none: builds start at once) */
    private readonly slots: Pick<BuildSlots, 'run'> | null = null,
    /** the role of the key that pushes, by its name (which images its build may use); unknown: developer */
    private readonly roleOf: (keyName: string) => KeyRole | undefined = () => undefined,
    /** told deploy.succeeded / deploy.failed (returns at once) */
    private readonly notify: NotificationSink = NO_NOTIFICATIONS,
  ) {}

  /** The update to deploy: main, or master when the repo has (and gets) no main. */
  async deployUpdate(session: PushSession, req: HookRequest): Promise<RefUpdate | null> {
    const live = (u: RefUpdate | undefined) => (u && !ZERO_SHA.test(u.newSha) ? u : undefined);
    const main = live(req.updates.find((u) => u.ref === 'refs/heads/main'));
    if (main) return main;
    const master = live(req.updates.find((u) => u.ref === 'refs/heads/master'));
    if (master && !req.updates.some((u) => u.ref === 'refs/heads/main') && !(await resolveRef(session.repoDir, 'refs/heads/main')))
      return master;
    return null;
  }

  /** Deploys the push (or stores a branch that does not deploy); each ref update goes to the audit trail with its shas. */
  async handle(session: PushSession, req: HookRequest, out: Writable): Promise<number> {
    let code = 1;
    try {
      code = await this.run(session, req, out, this.roleOf(session.keyName) ?? 'developer');
      return code;
    } finally {
      for (const u of req.updates) {
        const detail = `${u.ref} ${u.oldSha.slice(0, 12)}..${u.newSha.slice(0, 12)}`;
        this.state.events.record({ keyName: session.keyName, command: 'push', app: session.app, exitCode: code, detail });
      }
    }
  }

  /**
   * `ps:rebuild`: builds the deploy branch's commit again and deploys it, exactly as a push of it
   * would (the caller holds the app lock). Null when the repo has no deploy branch.
   */
  async rebuild(
    app: string,
    repoDir: string,
    by: { keyName: string; role: KeyRole },
    out: Writable,
    signal: AbortSignal,
  ): Promise<number | null> {
    for (const ref of ['refs/heads/main', 'refs/heads/master']) {
      const sha = await resolveRef(repoDir, ref);
      const session = { app, repoDir, signal, keyName: by.keyName };
      if (sha) return this.run(session, { updates: [{ ref, oldSha: sha, newSha: sha }], gitEnv: {} }, out, by.role);
    }
    return null;
  }

  private async run(session: PushSession, req: HookRequest, out: Writable, role: KeyRole): Promise<number> {
    const { app } = session;
    const update = await this.deployUpdate(session, req);
    if (!update) {
      const refs = req.updates.map((u) => u.ref.replace('refs/heads/', '')).join(', ');
      out.write(`-----> Stored ${refs}; only main (or master without main) deploys\n`);
      return 0;
    }
    const recorder = new ReleaseLogRecorder(out);
    const stage = new StageOutput(recorder);
    // the git session holds the app lock (GitService.withPushLock) until the ref is written
    return this.deploy(app, session, req, update, stage, recorder, role);
  }

  private async deploy(
    app: string,
    session: PushSession,
    req: HookRequest,
    update: RefUpdate,
    stage: StageOutput,
    recorder: ReleaseLogRecorder,
    role: KeyRole,
  ): Promise<number> {
    const sha = update.newSha;
    const log = this.log.child({ app, commit: sha.slice(0, 7) });
    // a push that waited for the lock may be stale: git would refuse its ref update after the
    // deploy, leaving a live release the branch does not point at. Refuse it before deploying.
    const now = await resolveRef(session.repoDir, update.ref);
    const expected = ZERO_SHA.test(update.oldSha) ? null : update.oldSha;
    if (now !== expected) {
      stage.fail(
        'deploy',
        `${update.ref.replace('refs/heads/', '')} moved to ${now?.slice(0, 7) ?? 'nothing'} while this push waited; nothing was deployed. Fetch, merge and push again`,
      );
      return 1;
    }
    const deployId = this.state.deploys.start(app, process.pid);
    const dir = path.join(this.buildsDir, `${app}-${sha.slice(0, 12)}-${deployId}`);
    let version: number | null = null;
    let current = 'export';
    try {
      stage.stage('export', `Deploying ${app} ${sha.slice(0, 7)} (${update.ref.replace('refs/heads/', '')})`);
      await exportCommit(session.repoDir, sha, dir, req.gitEnv, session.signal);
      const settings = this.settings.snapshot(app);
      // builder:set build-dir (monorepos): the app's root for the build, its Procfile and app.json
      const root = await resolveInside(dir, settings['build-dir'] ?? '.', 'build-dir', 'dir');
      const dockerfile = settings['dockerfile-path'] ?? undefined;
      if (dockerfile) await resolveInside(root, dockerfile, 'dockerfile-path', 'file');
      // regular files only, never through a link
      const procfileText = await readTreeFile(root, 'Procfile');
      const procfile = procfileText === null ? {} : parseProcfile(procfileText);
      const appJsonText = await readTreeFile(root, 'app.json');
      const appJson = appJsonText === null ? null : parseAppJson(appJsonText);
      if (appJson) checkFormationMax(appJson.formation, settings['max-replicas']);
      const builder = await this.builders.select(root, settings.builder, dockerfile);

      const first = !this.state.releases.current(app);
      const { release: _releaseTask, ...processes } = procfile;
      const formation = deployFormation(this.state.formation.all(app), first, processes, appJson);

      const release = this.state.releases.create({
        app,
        image: null,
        commitSha: sha,
        description: `Deploy ${sha.slice(0, 7)}`,
        config: this.state.config.all(app),
        formation,
        status: 'building',
        builder: builder.name,
        processes,
        port: null,
        appChecks: appJson?.healthcheck ?? null,
        formationLock: lockedTypes(appJson),
      });
      version = release.version;
      this.state.deploys.setRelease(deployId, version);
      const tag = `paas/${app}:v${version}`;
      current = 'build';
      const build = (limits?: BuildStepLimits) => {
        stage.stage('build', `Building ${tag} (${builder.name})`);
        if (limits) stage.info(`limits: ${limits.summary}`);
        return builder.build({
          app,
          release: version!,
          sourceDir: root,
          imageTag: tag,
          buildArgs: settings['build-args'],
          // the tag names app and release; image labels cost one LABEL build step each on the classic
          // builder, so only the configured extra labels (tests mark theirs for cleanup) are added
          labels: { ...this.extraLabels },
          output: stage.out,
          signal: session.signal,
          imagePolicy: { app, role },
          ...(limits ? { limits } : {}),
        });
      };
      const built = await (this.slots ? this.slots.run(stage, session.signal, build, settings.resources) : build());
      const port = webPort(built.exposedPorts, settings.port);
      this.state.releases.update(app, version, { image: built.image, port, status: 'deploying' });
      // app.json cron goes with the image: the live release's image says which tasks run (src/cron)
      if (appJson?.cron.length) this.state.cron.saveEntries(app, built.image, appJson.cron);
      current = 'deploy';
      const hooks = releaseHooks(procfile, appJson, first);
      await this.releases.activate(app, this.state.releases.get(app, version)!, stage, session.signal, hooks);
      this.state.formation.replace(app, formation);
      this.settings.write(app, 'formation.appjson', lockedTypes(appJson));
      this.state.deploys.finish(deployId, 'succeeded');
      stage.end();
      this.state.releases.update(app, version, { timings: stage.timings });
      stage.out.write(`-----> Release v${version} live at http://${this.releases.hosts(app)[0]} (${stage.elapsed()})\n`);
      log.info({ release: version }, 'deploy succeeded');
      this.notify.notify({
        event: 'deploy.succeeded',
        app,
        release: version,
        message: `deployed ${sha.slice(0, 7)}: release v${version} is live`,
      });
      return 0;
    } catch (err) {
      const message = session.signal.aborted ? 'cancelled: the client went away' : userMessage(err);
      if (version !== null) this.state.releases.update(app, version, { status: 'failed', timings: stage.timings });
      this.state.deploys.finish(deployId, 'failed', message.split('\n')[0]);
      stage.fail(current, message);
      const live = this.state.releases.current(app);
      stage.out.write(live ? ` !     v${live.version} keeps serving; the push is rejected\n` : ' !     the push is rejected\n');
      log.warn({ err, release: version, stage: current }, 'deploy failed');
      this.notify.notify({
        event: 'deploy.failed',
        app,
        release: version,
        message: `deploy of ${sha.slice(0, 7)} failed at ${current}: ${message.split('\n')[0]}${live ? `; v${live.version} keeps serving` : ''}`,
      });
      return 1;
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
      if (version !== null && this.releaseLog) {
        try {
          recorder.save(this.releaseLog(app, version));
        } catch (err) {
          log.warn({ err }, 'could not save the release log');
        }
      }
    }
  }
}
