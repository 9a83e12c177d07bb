// A DashboardService over a real State (SQLite file) with inert defaults for what a test leaves out.
import { DashboardService, type DashboardServiceDeps } from '../../../src/dashboard/dashboard-service.js';
import { KeyService } from '../../../src/services/key-service.js';
import { DashboardLoginsRepository } from '../../../src/state/dashboard-logins-repository.js';
import { DashboardSessionsRepository } from '../../../src/state/dashboard-sessions-repository.js';
import type { State } from '../../../src/state/state.js';

export function keysOver(state: State): KeyService {
  return new KeyService({ keys: state.keys, onRemoved: () => {} } as unknown as ConstructorParameters<typeof KeyService>[0]);
}

export function serviceOver(state: State, keys: KeyService, deps: Partial<DashboardServiceDeps> = {}): DashboardService {
  return new DashboardService({
    logins: new DashboardLoginsRepository(state.db),
    sessions: new DashboardSessionsRepository(state.db),
    keys: state.keys,
    identify: (fp) => keys.identify(fp),
    settings: state.settings,
    globalDomain: () => 'example.test',
    hostOwner: () => null,
    httpsPort: () => 443,
    applyRoute: async () => {},
    onEnded: () => {},
    ...deps,
  });
}
