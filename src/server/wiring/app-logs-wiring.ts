import os from 'node:os';
import path from 'node:path';
import { AppLogStore } from '../../app-logs/app-log-store.js';
import { LogCollector } from '../../app-logs/log-collector.js';
import { LogDrains } from '../../app-logs/log-drains.js';
import { LogSettings } from '../../app-logs/log-settings.js';
import type { ControlPlaneKnobs } from '../../config/env-knobs.js';
import type { DataPaths } from '../../config/server-config.js';
import type { Logger } from '../../log/logger.js';
import type { State } from '../../state/state.js';
import type { RuntimeBundle } from './runtime-wiring.js';

/** The kept app logs: segment files under `<data-dir>/logs/apps/<app>/`, the collector that fills them, retention and drains. */
export interface AppLogsBundle {
  store: AppLogStore;
  collector: LogCollector;
  logSettings: LogSettings;
  drains: LogDrains;
}

export function wireAppLogs(paths: DataPaths, state: State, rt: RuntimeBundle, knobs: ControlPlaneKnobs, log: Logger): AppLogsBundle {
  const logSettings = new LogSettings({ app: state.appSettings, global: state.settings });
  const store = new AppLogStore(path.join(paths.logs, 'apps'), (app) => logSettings.of(app).retention, log.child({ module: 'app-logs' }));
  const drains = new LogDrains(
    { capacity: knobs.logDrainBuffer, timeoutMs: knobs.logDrainTimeoutMs, hostname: os.hostname() },
    log.child({ module: 'log-drains' }),
  );
  for (const app of state.apps.list()) {
    const url = logSettings.of(app.name).drain;
    if (url) drains.set(app.name, url);
  }
  const collector = new LogCollector({
    docker: rt.docker,
    store,
    events: (onEvent, signal, onConnect) => rt.runtime.events(onEvent, signal, onConnect),
    ship: (app, records) => drains.ship(app, records),
    log: log.child({ module: 'log-collector' }),
    labels: rt.labels,
  });
  return { store, collector, logSettings, drains };
}
