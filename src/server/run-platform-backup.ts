import fs from 'node:fs';
import { PassThrough, type Writable } from 'node:stream';
import type { DataPaths, ServerConfig } from '../config/server-config.js';
import { HOST_ADMIN } from '../contracts/command-io.js';
import type { Logger } from '../log/logger.js';
import { runBackupCommand } from '../platform-backup/backup-command.js';
import { ProxyClient } from '../proxy/control/proxy-client.js';
import { DockerClient } from '../runtime/docker-client.js';
import { State } from '../state/state.js';
import { forwardAdminCommand } from './admin-socket.js';
import type { ControlPlane } from './control-plane.js';
import { buildControlPlane } from './control-plane.js';

/**
 * `paas admin backup …` in the admin process: it reads and writes host files and the engine
 * directly, and runs the paas commands it needs (add-on backups, app starts) in the daemon when
 * one runs, else (create only) in a control plane of its own.
 */
export async function runPlatformBackup(words: string[], config: ServerConfig, paths: DataPaths, log: Logger): Promise<number> {
  fs.mkdirSync(paths.run, { recursive: true, mode: 0o700 });
  const state = State.open(paths.db);
  let cp: ControlPlane | null = null;
  // Ctrl-C ends the process as usual: a file being written keeps its `.partial` name
  const signal = new AbortController().signal;
  const ended = () => {
    const s = new PassThrough();
    s.end();
    return s;
  };
  try {
    return await runBackupCommand(words, {
      paths,
      state,
      docker: new DockerClient(config.dockerHost ? undefined : { socketPath: '/var/run/docker.sock' }),
      daemon: (w: string[], out: Writable) => forwardAdminCommand(paths.adminSocket, w, ended(), out, out),
      local: async (w: string[], out: Writable) => {
        cp ??= await buildControlPlane(config, paths, state, new ProxyClient(paths.proxySocket), log);
        return cp.host.run(w, HOST_ADMIN, { stdin: ended(), stdout: out, stderr: out, signal, pty: null });
      },
      stdout: process.stdout,
      stderr: process.stderr,
      log,
    });
  } finally {
    state.close();
  }
}
