import { dataPaths } from '../config/server-config.js';
import { parseServerConfig } from '../config/server-config.js';
import type { Logger } from '../log/logger.js';
import { ProxyClient } from '../proxy/control/proxy-client.js';
import { State } from '../state/state.js';
import { forwardAdminCommand } from './admin-socket.js';
import { type ControlPlane, buildControlPlane } from './control-plane.js';
import { HOST_ADMIN } from '../contracts/command-io.js';
import { runPlatformBackup } from './run-platform-backup.js';

/**
 * `paas admin <command> [args]` on the server host: the same command registry and output as
 * over SSH, as the admin identity (bootstrap of the first key). When the daemon runs, the command
 * runs inside it (its app locks and settings apply); otherwise in this process on the same
 * database. Takes `--data-dir` anywhere on the line, or PAAS_DATA_DIR.
 */
export async function runAdmin(argv: string[], log: Logger): Promise<number> {
  const words: string[] = [];
  const serverFlags: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--data-dir') serverFlags.push(argv[i], argv[++i] ?? '');
    else if (argv[i].startsWith('--data-dir=')) serverFlags.push(argv[i]);
    else words.push(argv[i]);
  }
  const config = parseServerConfig(serverFlags);
  const paths = dataPaths(config.dataDir);
  if (words[0] === 'backup') return runPlatformBackup(words.slice(1), config, paths, log);
  const forwarded = await forwardAdminCommand(paths.adminSocket, words, process.stdin, process.stdout, process.stderr);
  if (forwarded !== null) return forwarded;
  const state = State.open(paths.db);
  let cp: ControlPlane | null = null;
  try {
    cp = await buildControlPlane(config, paths, state, new ProxyClient(paths.proxySocket), log);
    const ac = new AbortController();
    process.once('SIGINT', () => ac.abort());
    return await cp.host.run(words, HOST_ADMIN, {
      stdin: process.stdin,
      stdout: process.stdout,
      stderr: process.stderr,
      signal: ac.signal,
      pty: null,
    });
  } finally {
    // without the daemon there is nobody to deliver what the command queued after it returns
    cp?.notifications.close();
    state.close();
  }
}
