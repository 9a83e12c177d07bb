import type { Writable } from 'node:stream';
import type { AppSettingsStore } from '../deploy/app-settings-store.js';
import type { ReleaseManager } from '../deploy/release-manager.js';
import { StageOutput } from '../deploy/stage-output.js';
import { webPort } from '../deploy/web-port.js';
import { parsePortArg } from '../inputs/port-arg.js';
import type { ImageStore } from '../runtime/image-store.js';
import type { Release, ReleasesRepository } from '../state/releases-repository.js';
import { type Locks, underLock } from '../deploy/app-locks.js';
import { PortErrors } from './port-errors.js';

export interface PortDeps {
  settings: Pick<AppSettingsStore, 'get' | 'write'>;
  releases: Pick<ReleasesRepository, 'current'>;
  deriver: Pick<ReleaseManager, 'derive'>;
  images: Pick<ImageStore, 'inspect'>;
  locks: Locks;
}

export interface PortReport {
  /** chosen with ports:set; null: default */
  chosen: number | null;
  /** the port the live release routes to; null before the first deploy */
  inUse: number | null;
  /** what the live image EXPOSEs */
  exposed: number[];
  /** why `inUse` is that port */
  reason: string;
}

/**
 * `ports:set` / `ports:report`: which container port web traffic goes to, for images that EXPOSE
 * several. A change on a running app makes a release with the new port and rolls it out
 * health-gated; the port must be one the live image EXPOSEs (any port when it EXPOSEs none).
 */
export class PortService {
  constructor(private readonly deps: PortDeps) {}

  async report(app: string): Promise<PortReport> {
    const chosen = this.deps.settings.get(app, 'port');
    const live = this.deps.releases.current(app);
    const exposed = live?.image ? ((await this.deps.images.inspect(live.image))?.exposedPorts ?? []) : [];
    return { chosen, inUse: live?.port ?? null, exposed, reason: reasonFor(chosen, exposed) };
  }

  async set(app: string, text: string, out: Writable, signal: AbortSignal): Promise<{ port: number; release: Release | null }> {
    const chosen = parsePortArg(text);
    const d = this.deps;
    return underLock(d.locks, app, 'a port change', out, signal, async () => {
      const live = d.releases.current(app);
      const exposed = live?.image ? ((await d.images.inspect(live.image))?.exposedPorts ?? []) : [];
      if (chosen !== null && exposed.length > 0 && !exposed.includes(chosen))
        throw PortErrors.notExposed(`the image of ${app} EXPOSEs ${exposed.join(', ')}, not ${chosen}; nothing was changed`);
      const before = d.settings.get(app, 'port');
      d.settings.write(app, 'port', chosen);
      const port = webPort(exposed, chosen);
      if (!live || live.port === port || d.settings.get(app, 'stopped') !== null) return { port, release: null };
      const stage = new StageOutput(out);
      try {
        const r = await d.deriver.derive(app, live, { port }, `Route to port ${port}`, stage, signal);
        stage.end();
        return { port, release: r };
      } catch (err) {
        // the live release still routes to its port: the choice goes back with it, as config:set's does
        d.settings.write(app, 'port', before);
        throw err;
      }
    });
  }
}

function reasonFor(chosen: number | null, exposed: number[]): string {
  if (chosen !== null) return 'chosen with ports:set';
  if (exposed.length === 1) return 'the only port the image EXPOSEs';
  if (exposed.length > 1) return `the default (the image EXPOSEs ${exposed.join(', ')}; choose one with ports:set)`;
  return 'the default (the image EXPOSEs no port)';
}
