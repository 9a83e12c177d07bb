import type { Readable, Writable } from 'node:stream';
import type { CommandIo } from '../contracts/command-io.js';
import type { AppSettingsStore } from '../deploy/app-settings-store.js';
import { DeployErrors } from '../deploy/deploy-errors.js';
import type { RuntimePort } from '../deploy/adapter-interfaces.js';
import type { Rollout } from '../deploy/rollout.js';
import type { ContainerRuntime } from '../runtime/container-runtime.js';
import { LogStream } from '../runtime/log-stream.js';
import type { ReleasesRepository } from '../state/releases-repository.js';

export interface LogsDeps {
  releases: Pick<ReleasesRepository, 'current'>;
  settings: Pick<AppSettingsStore, 'snapshot'>;
  rollout: Pick<Rollout, 'spec'>;
  runtime: Pick<RuntimePort, 'list'> & Pick<ContainerRuntime, 'streamLogs' | 'runOneOff'>;
}

export interface LogsOptions {
  follow: boolean;
  lines: number;
  process: string | null;
}

/** An app's logs, and one-off containers (`run`). */
export class LogsService {
  constructor(private readonly deps: LogsDeps) {}

  /** Merged logs prefixed `process.replica`; following picks up containers started later (deploys, scale) until the signal aborts. */
  async logs(app: string, opts: LogsOptions, out: Writable, signal: AbortSignal): Promise<void> {
    const { runtime } = this.deps;
    // `run` containers are the caller's own; cron runs (one-off containers of process type `cron`) are the app's logs
    const pick = async () =>
      (await runtime.list({ app, ...(opts.process ? { process: opts.process } : {}) })).filter((c) => !c.oneOff || c.process === 'cron');
    const first = await pick();
    const stream = runtime.streamLogs(
      first.map((c) => c.id),
      { follow: opts.follow, tail: opts.lines },
      signal,
    );
    let poll: NodeJS.Timeout | null = null;
    if (opts.follow) {
      const seen = new Set(first.map((c) => c.id));
      poll = setInterval(() => {
        void pick()
          .then((cs) => {
            for (const c of cs.filter((c) => !seen.has(c.id))) {
              seen.add(c.id);
              stream.add(c.id, 'all');
            }
          })
          .catch(() => undefined);
      }, 1000);
    }
    try {
      for await (const l of stream) {
        if (signal.aborted) break;
        out.write(`${LogStream.format(l)}\n`);
      }
    } finally {
      if (poll) clearInterval(poll);
      stream.close();
    }
  }

  /** A one-off container of the live release with its config; returns its exit code. */
  async run(app: string, command: string, io: CommandIo): Promise<number> {
    const live = this.deps.releases.current(app);
    if (!live) throw DeployErrors.noRelease(app);
    const base = this.deps.rollout.spec(app, live, 'run', 0, this.deps.settings.snapshot(app));
    const env = { ...base.env, ...(io.pty ? { TERM: io.pty.term || 'xterm' } : {}) };
    const spec = { ...base, env, command, restart: { policy: 'no' as const } };
    const pty = io.pty;
    let unsubscribed = false;
    return this.deps.runtime.runOneOff(spec, {
      tty: pty !== null,
      stdin: io.stdin as Readable,
      stdout: io.stdout,
      stderr: io.stderr,
      signal: io.signal,
      ...(pty
        ? {
            initialSize: { cols: pty.cols, rows: pty.rows },
            onResize: (listener) => {
              pty.onResize((cols, rows) => {
                if (!unsubscribed) listener({ cols, rows });
              });
              return () => {
                unsubscribed = true;
              };
            },
          }
        : {}),
    });
  }
}
