// Wiring of the app, domain, key, settings and port services over the deploy fakes and a real
// SQLite State, the way src/server/build-services.ts wires them, plus the identities, a logger
// that keeps its warnings, an image store fake and a fresh SSH public key for their unit tests.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import pino from 'pino';
import type { Identity } from '../../../src/contracts/command-io.js';
import type { ProxyDeploySpec } from '../../../src/deploy/adapter-interfaces.js';
import type { Locks } from '../../../src/deploy/app-locks.js';
import type { ImageInfo } from '../../../src/runtime/image-store.js';
import { AppService, type AppDeps } from '../../../src/services/app-service.js';
import { DomainService } from '../../../src/services/domain-service.js';
import { KeyService } from '../../../src/services/key-service.js';
import { PortService } from '../../../src/services/port-service.js';
import { SettingsService } from '../../../src/services/settings-service.js';
import { deploySetup, liveApp } from './services-setup.js';
import { generateEd25519Pair } from '../../../src/ssh/ed25519-pair.js';

export const never = new AbortController().signal;

export const ADMIN: Identity = { keyName: 'root', role: 'admin', apps: [], canCreate: true };

export function developer(apps: string[], keyName = 'dev'): Identity {
  return { keyName, role: 'developer', apps, canCreate: true };
}

/**
 * Holds `app`'s lock as a git push would, then lets the pending work of the caller run as far as
 * it can; the returned function lets the lock go and waits until it is free.
 */
export async function pushHoldsLock(locks: Locks, app: string): Promise<() => Promise<void>> {
  let release!: () => void;
  const held = locks.withLock(app, 'a git push', () => new Promise<void>((r) => (release = r)));
  return async () => {
    release();
    await held;
  };
}

/** Lets every pending callback run (a caller queued on a lock has said so by then). */
export const settle = () => new Promise((r) => setImmediate(r));

/** A logger whose entries (warnings and up) are kept as parsed objects. */
export function recordingLogger() {
  const entries: { msg: string; [field: string]: unknown }[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, cb) {
      entries.push(JSON.parse(chunk.toString()));
      cb();
    },
  });
  return { log: pino({ level: 'warn' }, sink), entries };
}

/** A fresh OpenSSH public key line. */
export function publicKey(comment = 'me@host'): string {
  return `${generateEd25519Pair().public} ${comment}`;
}

/**
 * The domain service over the deploy fakes, global domain flag `example.test`. As in the real
 * wiring the rollout's proxy spec carries the hosts the domain service gives. `refuseFor`: apps
 * whose routes the proxy refuses; `secureHosts`: hosts served with a certificate.
 */
export function domainSetup() {
  const s = deploySetup();
  const { log, entries } = recordingLogger();
  const refuseFor = new Set<string>();
  const secureHosts = new Set<string>();
  const proxy = {
    deploy: (app: string, spec: ProxyDeploySpec) =>
      refuseFor.has(app) ? Promise.reject(new Error('proxy down')) : s.proxy.deploy(app, spec),
    remove: (app: string) => s.proxy.remove(app),
  };
  const domains: DomainService = new DomainService({
    domains: s.state.domains,
    apps: s.state.apps,
    releases: s.state.releases,
    globals: s.state.settings,
    defaultDomain: 'example.test',
    rollout: {
      proxySpec: (app, targets) => ({ ...s.rollout.proxySpec(app, targets), hosts: domains.hosts(app) }),
      serves: (app, live, c) => s.rollout.serves(app, live, c),
    },
    runtime: s.runtime,
    proxy,
    locks: s.locks,
    log,
    secure: (_app, host) => secureHosts.has(host),
  });
  return { ...s, domains, log, logged: entries, refuseFor, secureHosts };
}

/** What the app service did outside State: repos, add-ons, TLS. */
export interface AppEffects {
  ensuredRepos: string[];
  removedRepos: string[];
  detached: string[];
  destroyed: string[];
}

/** The app service over `domainSetup()` (logging to the same list), its dirs under a temp data dir; `over` replaces deps. */
export function appSetup(over: Partial<AppDeps> = {}) {
  const s = domainSetup();
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'paas-apps-'));
  const effects: AppEffects = { ensuredRepos: [], removedRepos: [], detached: [], destroyed: [] };
  const appDirs = (app: string) => [path.join(dataDir, 'storage', app), path.join(dataDir, 'release-logs', app)];
  const apps = new AppService({
    apps: s.state.apps,
    releases: s.state.releases,
    formation: s.state.formation,
    repos: {
      ensureRepo: async (app) => effects.ensuredRepos.push(app),
      removeRepo: (app) => effects.removedRepos.push(app),
    },
    domains: s.domains,
    rollout: s.rollout,
    runtime: s.runtime,
    proxy: s.proxy,
    locks: s.locks,
    appDirs,
    detachAddons: async (app) => {
      effects.detached.push(app);
    },
    grant: (keyName, app) => {
      const key = s.state.keys.byName(keyName);
      if (key) s.state.keys.grant(key.id, [app]);
    },
    log: s.log,
    afterDestroy: async (app) => {
      effects.destroyed.push(app);
    },
    ...over,
  });
  return { ...s, apps, effects, appDirs };
}

/** The key service over a State; `removed`: the fingerprints it said to disconnect. */
export function keySetup() {
  const s = deploySetup();
  const removed: string[] = [];
  const keys = new KeyService({
    keys: s.state.keys,
    apps: s.state.apps,
    transaction: (fn) => s.state.transaction(fn),
    onRemoved: (fingerprint) => removed.push(fingerprint),
  });
  return { ...s, keys, removed };
}

/** The settings service; `processes`: the app's process types (absent: before the first deploy). */
export function settingsSetup() {
  const s = deploySetup();
  const processes = new Map<string, Set<string>>();
  const service = new SettingsService({
    settings: s.settings,
    rollout: s.rollout,
    knownProcesses: (app) => processes.get(app) ?? null,
    locks: s.locks,
    globals: s.state.settings,
  });
  return { ...s, service, processes };
}

/** Images the engine has: ref -> EXPOSEd ports; `inspected` keeps each ref asked for. */
export class FakeImages {
  readonly exposed = new Map<string, number[]>();
  readonly inspected: string[] = [];
  async inspect(ref: string): Promise<ImageInfo | null> {
    this.inspected.push(ref);
    const ports = this.exposed.get(ref);
    return ports ? { id: `sha256:${ref}`, exposedPorts: ports } : null;
  }
}

/** The port service with the real release manager (rollouts on the fakes). */
export function portSetup() {
  const s = deploySetup();
  const images = new FakeImages();
  const ports = new PortService({ settings: s.settings, releases: s.state.releases, deriver: s.releases, images, locks: s.locks });
  return { ...s, images, ports };
}

/** The app every service test starts from (services-setup.ts). */
export { liveApp };
