import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
// Builds the deploy pipeline and the application services over an in-memory SQLite database and
// the fake runtime and proxy, the way the composition root wires the real ones.
import { AppLocks } from '../../../src/deploy/app-locks.js';
import { AppSettingsStore } from '../../../src/deploy/app-settings-store.js';
import type { RolloutStore } from '../../../src/deploy/adapter-interfaces.js';
import { ReleaseManager } from '../../../src/deploy/release-manager.js';
import { KEEP_WARM_GLOBAL_KEY, WarmReleases } from '../../../src/deploy/warm-release.js';
import { ReleaseService } from '../../../src/services/release-service.js';
import { Rollout } from '../../../src/deploy/rollout.js';
import { silentLogger } from '../../../src/log/logger.js';
import { State } from '../../../src/state/state.js';
import { FakeProxy, FakeRuntime } from './deploy-fakes.js';
import { ConfigService } from '../../../src/services/config-service.js';

/** The runtime fake plus the one-off runs release tasks use: each command's exit code is scripted. */
export class FakeRuntimeWithTasks extends FakeRuntime {
  readonly tasks: string[] = [];
  taskExit = new Map<string, number>();
  async runOneOff(spec: { command?: string }, io: { stdout: NodeJS.WritableStream }, commitAs?: string): Promise<number> {
    this.tasks.push(spec.command ?? '');
    this.calls.push(`task ${spec.command}${commitAs ? ` -> ${commitAs}` : ''}`);
    io.stdout.write(`ran ${spec.command}\n`);
    return this.taskExit.get(spec.command ?? '') ?? 0;
  }
}

/** `keepWarm`: the previous release stays warm as on a real host (default 10m); off otherwise, as most tests are about other things. */
export function deploySetup(opts: { keepWarm?: boolean } = {}) {
  const state = State.open(path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'paas-unit-')), 'paas.db'));
  const runtime = new FakeRuntimeWithTasks();
  const proxy = new FakeProxy();
  const locks = new AppLocks();
  const settings = new AppSettingsStore(state.appSettings);
  const store: RolloutStore = {
    current: (app) => state.releases.current(app),
    formation: (app) => state.formation.all(app),
    hosts: (app) => [`${app}.example.test`],
    settings: (app) => settings.snapshot(app),
    storagePolicy: () => ({ dataDir: '/nonexistent/paas-data', allowedRoots: [], allBinds: [] }),
  };
  if (!opts.keepWarm) state.settings.set(KEEP_WARM_GLOBAL_KEY, '0');
  const warm = new WarmReleases({ settings, globals: state.settings, releases: state.releases, runtime, log: silentLogger() });
  const rollout = new Rollout(store, runtime, proxy, silentLogger(), warm);
  const releases = new ReleaseManager({
    releases: state.releases,
    formation: store.formation,
    settings: store.settings,
    rollout,
    runtime,
    log: silentLogger(),
  });
  return { state, runtime, proxy, locks, settings, rollout, releases, warm };
}

/**
 * An app with a live release v1 running `formation`, as a first push leaves it. Its stability
 * window is 0 s (`checks:set wait=0`): the services' tests are not about the window (the rollout's
 * and cutover's are), and 2 s of it per rollout made them take seconds instead of milliseconds.
 */
export async function liveApp(s: ReturnType<typeof deploySetup>, app: string, formation: Record<string, number> = { web: 1 }) {
  s.state.apps.create(app);
  s.settings.write(app, 'checks', { wait: 0 });
  s.state.formation.replace(app, formation);
  const r = s.state.releases.create({
    app,
    image: `paas/${app}:v1`,
    commitSha: 'abc',
    description: 'Deploy abc',
    config: {},
    formation,
    status: 'deploying',
    builder: 'dockerfile',
    processes: {},
    port: 5000,
  });
  s.runtime.images.add(r.image!);
  const { StageOutput } = await import('../../../src/deploy/stage-output.js');
  const { Captured } = await import('./deploy-fakes.js');
  await s.releases.activate(app, r, new StageOutput(new Captured()), new AbortController().signal);
  s.runtime.calls.length = 0;
  return r;
}

/** The real ReleaseService over a deploySetup; `logPath`: where its deploy logs are read. */
export function releaseService(s: ReturnType<typeof deploySetup>, logPath: (app: string, v: number) => string = () => '/nonexistent') {
  return new ReleaseService({
    releases: s.state.releases,
    config: s.state.config,
    formation: s.state.formation,
    settings: s.settings,
    deriver: s.releases,
    runtime: s.runtime,
    locks: s.locks,
    warm: s.warm,
    globals: s.state.settings,
    logPath,
  });
}

/** The real ConfigService over a deploySetup (its config changes roll out on the fake runtime). */
export function configService(s: ReturnType<typeof deploySetup>): ConfigService {
  return new ConfigService({
    config: s.state.config,
    releases: s.state.releases,
    formation: s.state.formation,
    settings: s.settings,
    deriver: s.releases,
    locks: s.locks,
  });
}
