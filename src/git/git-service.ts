import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import type { Duplex, Writable } from 'node:stream';
import type { Logger } from '../log/logger.js';
import { gitRefusal } from '../contracts/access.js';
import type { CommandIo, Identity } from '../contracts/command-io.js';
import { GitErrors } from './git-errors.js';
import { HookChannel, type PushHandler } from './hook-channel.js';
import { HOOK_FD, HOOK_FD_ENV, preReceiveHookScript } from './hook-script.js';
import { appFromRepoPath, badRepoPath } from './repo-path.js';
import { RepoStore } from './repo-store.js';

export interface GitServiceOptions {
  reposDir: string;
  hooksDir: string;
  /** runs a push's deploy from inside its pre-receive hook; its exit code is the hook's */
  onPush: PushHandler;
  /** creates the app when a push names one that does not exist (granting it to a developer creator) */
  ensureApp(app: string, by: Identity): Promise<void>;
  appExists(app: string): boolean;
  /** the audit trail: one row per git session (who, which service, which app, exit code) */
  audit(e: { keyName: string; command: string; app: string; exitCode: number }): void;
  /**
   * Serializes pushes with every other operation on the app, for the whole receive-pack session:
   * the next push sees the ref this one wrote (its hook runs before git updates the ref).
   */
  withPushLock<T>(app: string, onWait: (holder: string) => void, signal: AbortSignal, fn: () => Promise<T>): Promise<T>;
  /** the largest pack a push may send (`builder:set --global max-push-size`, git's receive.maxInputSize); null: no cap */
  maxPushBytes?(): number | null;
  /** refuses a push (throws an AppError) before anything is written, e.g. below the free-disk floor */
  beforePush?(): Promise<void>;
  log: Logger;
}

export const GIT_COMMANDS = new Set(['git-receive-pack', 'git-upload-pack']);

/**
 * Bare repositories per app and the two git services over SSH: receive-pack (push, with the
 * pre-receive hook that deploys) and upload-pack (clone/fetch back).
 */
export class GitService {
  constructor(private readonly opts: GitServiceOptions) {
    this.repos = new RepoStore(opts.reposDir);
  }

  private readonly repos: RepoStore;

  repoDir(app: string): string {
    return this.repos.repoDir(app);
  }

  /** Writes the hooks folder every repo uses through core.hooksPath: upgrades take effect at once. */
  installHooks(): void {
    fs.mkdirSync(this.opts.hooksDir, { recursive: true });
    fs.writeFileSync(path.join(this.opts.hooksDir, 'pre-receive'), preReceiveHookScript(), { mode: 0o755 });
  }

  ensureRepo(app: string): Promise<string> {
    return this.repos.ensureRepo(app);
  }

  removeRepo(app: string): void {
    this.repos.removeRepo(app);
  }

  /**
   * Runs `git-receive-pack '<path>'` or `git-upload-pack '<path>'` for an SSH exec, after the
   * same access check as commands; every session is recorded in the audit trail.
   */
  async handle(words: string[], identity: Identity, io: CommandIo): Promise<number> {
    const [service, rawPath, ...rest] = words;
    if (rawPath === undefined || rest.length) throw badRepoPath(words.slice(1).join(' '));
    const app = appFromRepoPath(rawPath);
    let code = 1;
    try {
      code = await this.session(service as 'git-receive-pack' | 'git-upload-pack', app, identity, io);
      return code;
    } finally {
      this.opts.audit({ keyName: identity.keyName, command: service!, app, exitCode: code });
    }
  }

  private async session(service: 'git-receive-pack' | 'git-upload-pack', app: string, identity: Identity, io: CommandIo): Promise<number> {
    const why = gitRefusal(identity, service, app, this.opts.appExists(app));
    if (why) throw GitErrors.forbidden(why);
    const log = this.opts.log.child({ app, service, key: identity.keyName });
    if (service === 'git-receive-pack') {
      await this.opts.beforePush?.();
      const wait = (holder: string) => io.stderr.write(`-----> Waiting for ${holder} of ${app} to finish\n`);
      // creating the app and its repo happens under the lock too: two first pushes race otherwise
      return this.opts.withPushLock(app, wait, io.signal, async () => {
        await this.opts.ensureApp(app, identity);
        return this.spawnGit(service, app, await this.ensureRepo(app), identity, io, log);
      });
    }
    const dir = this.repoDir(app);
    if (!fs.existsSync(path.join(dir, 'HEAD'))) throw GitErrors.noRepo(`app '${app}' has no repository yet: push to it first`);
    return this.spawnGit(service, app, dir, identity, io, log);
  }

  private async spawnGit(service: string, app: string, dir: string, identity: Identity, io: CommandIo, log: Logger): Promise<number> {
    const receive = service === 'git-receive-pack';
    // a pack over the cap is refused by git's index-pack/unpack-objects before the hook runs: the ref does not move
    const cap = receive ? (this.opts.maxPushBytes?.() ?? null) : null;
    const capArgs = cap === null ? [] : ['-c', `receive.maxInputSize=${cap}`];
    const args = receive
      ? ['-c', `core.hooksPath=${this.opts.hooksDir}`, ...capArgs, 'receive-pack', dir]
      : ['upload-pack', '--strict', dir];
    log.info('git session start');
    // receive-pack gets the hook's socket (fd 3) and verdict pipe (fd 4); its hook inherits them
    const child = spawn('git', args, {
      stdio: receive ? ['pipe', 'pipe', 'pipe', 'pipe', 'pipe'] : ['pipe', 'pipe', 'pipe'],
      env: { ...process.env, ...(receive ? { [HOOK_FD_ENV]: String(HOOK_FD) } : {}) },
    });
    const session = { app, repoDir: dir, signal: io.signal, keyName: identity.keyName };
    const hook = receive
      ? new HookChannel(child.stdio[HOOK_FD] as Duplex, child.stdio[HOOK_FD + 1] as Writable, session, this.opts.onPush, log)
      : null;
    try {
      return await new Promise<number>((resolve) => {
        io.stdin.pipe(child.stdin!);
        child.stdout!.pipe(io.stdout, { end: false });
        child.stderr!.pipe(io.stderr, { end: false });
        child.stdin!.on('error', () => {});
        const onAbort = () => child.kill('SIGTERM');
        io.signal.addEventListener('abort', onAbort, { once: true });
        child.on('exit', () => hook?.close());
        child.on('close', (code) => {
          io.signal.removeEventListener('abort', onAbort);
          io.stdin.unpipe(child.stdin!);
          resolve(code ?? 1);
        });
      });
    } finally {
      await hook?.settled;
      log.info('git session end');
    }
  }
}
