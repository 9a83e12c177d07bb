import { constants } from 'node:fs';
import { open } from 'node:fs/promises';
import { writeJsonAtomicAsync } from '../../util/atomic-json.js';
import { ProxyErrors } from '../proxy-errors.js';
import { parseServiceSpec, type ServiceSpec } from './service-spec.js';

interface StoredState {
  version: 1;
  services: Record<string, ServiceSpec>;
}

/** The proxy's routes on disk: one JSON file, replaced atomically (temp file + rename). */
export class RouteStore {
  readonly file: string;
  private chain: Promise<void> = Promise.resolve();

  constructor(file: string) {
    this.file = file;
  }

  async load(): Promise<Map<string, ServiceSpec>> {
    let text: string;
    try {
      // never through a symlink: the proxy user owns this folder, and a proxy that is still root reads it
      const fh = await open(this.file, constants.O_RDONLY | constants.O_NOFOLLOW);
      try {
        text = await fh.readFile('utf8');
      } finally {
        await fh.close();
      }
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return new Map();
      throw ProxyErrors.stateCorrupt(`cannot read proxy state ${this.file}`, err);
    }
    try {
      const state = JSON.parse(text) as StoredState;
      const out = new Map<string, ServiceSpec>();
      for (const [name, spec] of Object.entries(state.services ?? {})) out.set(name, parseServiceSpec(spec));
      return out;
    } catch (err) {
      throw ProxyErrors.stateCorrupt(`proxy state ${this.file} is not valid: ${(err as Error).message}`, err);
    }
  }

  /** Writes a snapshot; concurrent saves are applied in call order. */
  save(services: ReadonlyMap<string, ServiceSpec>): Promise<void> {
    const state: StoredState = { version: 1, services: Object.fromEntries(services) };
    const run = () => writeJsonAtomicAsync(this.file, state, { indent: 1, mode: 0o600 });
    const next = this.chain.then(run, run);
    this.chain = next.catch(() => {});
    return next;
  }
}
