import { AddonContainers } from '../../addons/addon-containers.js';
import { AddonDataService } from '../../addons/addon-data-service.js';
import { AddonScheduler } from '../../addons/addon-scheduler.js';
import { AddonService } from '../../addons/addon-service.js';
import { AddonTargetService } from '../../addons/addon-target-service.js';
import { AddonUpgradeService } from '../../addons/addon-upgrade-service.js';
import type { ControlPlaneKnobs } from '../../config/env-knobs.js';
import type { DataPaths } from '../../config/server-config.js';
import type { NotificationSink } from '../../contracts/notification-sink.js';
import type { Locks } from '../../deploy/app-locks.js';
import type { Logger } from '../../log/logger.js';
import type { ConfigService } from '../../services/config-service.js';
import type { State } from '../../state/state.js';
import type { RuntimeBundle } from './runtime-wiring.js';

/** Databases as add-ons: their containers, links, data (export, import, backups) and upgrades. */
export interface AddonsBundle {
  addons: AddonService;
  addonData: AddonDataService;
  /** scheduled backups, started by the server's background jobs */
  addonSchedule: AddonScheduler;
  addonTargets: AddonTargetService;
  addonUpgrade: AddonUpgradeService;
}

export function wireAddons(
  paths: DataPaths,
  state: State,
  rt: RuntimeBundle,
  deps: { config: ConfigService; locks: Locks; notify?: NotificationSink },
  knobs: ControlPlaneKnobs,
  log: Logger,
): AddonsBundle {
  const addonLog = log.child({ module: 'addons' });
  const containers = new AddonContainers(rt.docker, addonLog, rt.labels);
  const addons = new AddonService({
    addons: state.addons,
    appExists: (app) => state.apps.exists(app),
    containers,
    networks: rt.runtime,
    config: deps.config,
    locks: deps.locks,
    defaultImage: (t) => knobs.addonImage(t.imageEnv) ?? t.defaultImage,
    log: addonLog,
  });
  const addonTargets = new AddonTargetService({ addons: state.addons, service: addons });
  const addonData = new AddonDataService({
    addons: state.addons,
    service: addons,
    containers,
    backupsDir: paths.addonBackups,
    offsite: (row, file) => addonTargets.upload(row, file),
    log: addonLog,
  });
  const addonSchedule = new AddonScheduler({
    addons: state.addons,
    service: addons,
    data: addonData,
    log: addonLog,
    ...(deps.notify ? { notify: deps.notify } : {}),
  });
  const addonUpgrade = new AddonUpgradeService({
    addons: state.addons,
    service: addons,
    data: addonData,
    containers,
    appNetwork: (app) => rt.runtime.appNetwork(app),
    log: addonLog,
  });
  return { addons, addonData, addonSchedule, addonTargets, addonUpgrade };
}
