import { CronRunner } from '../../cron/cron-runner.js';
import { CronScheduler } from '../../cron/cron-scheduler.js';
import { CronService } from '../../cron/cron-service.js';
import type { NotificationSink } from '../../contracts/notification-sink.js';
import type { Logger } from '../../log/logger.js';
import type { State } from '../../state/state.js';
import type { DeployBundle } from './deploy-wiring.js';
import type { RuntimeBundle } from './runtime-wiring.js';

/** app.json cron: the runner of its containers, the scheduler (started by the background jobs) and the `cron:` commands' service. */
export interface CronBundle {
  cron: CronService;
  cronScheduler: CronScheduler;
}

export function wireCron(
  state: State,
  rt: RuntimeBundle,
  pipeline: Pick<DeployBundle, 'settings' | 'rollout'>,
  log: Logger,
  notify?: NotificationSink,
): CronBundle {
  const cronLog = log.child({ module: 'cron' });
  const apps = () => state.apps.list().map((a) => a.name);
  const current = (app: string) => state.releases.current(app);
  const timeoutOf = (app: string) => pipeline.settings.get(app, 'cron-timeout');
  const runner = new CronRunner({
    docker: rt.docker,
    // runs are containers on this engine (a Swarm app's join its attachable overlay), claimed like local ones
    runtime: {
      ensureNetwork: (app) => rt.runtime.ensureNetwork(app),
      appNetwork: (app) => rt.runtime.appNetwork(app),
      claim: (id) => rt.local.claim(id),
    },
    extraLabels: rt.labels,
    repo: state.cron,
    specOf: (app, release, process, replica) => pipeline.rollout.spec(app, release, process, replica, pipeline.settings.snapshot(app)),
    timeoutOf,
    log: cronLog,
    ...(notify ? { notify } : {}),
  });
  const cronScheduler = new CronScheduler({ apps, current, repo: state.cron, runner, log: cronLog });
  const cron = new CronService({
    apps,
    current,
    repo: state.cron,
    runner,
    timeoutOf,
    setTimeoutOf: (app, seconds) => pipeline.settings.write(app, 'cron-timeout', seconds ?? 86_400),
  });
  return { cron, cronScheduler };
}
