#!/usr/bin/env node
/**
 * Composition root of the `paas` binary: picks the mode and hands over. Each mode is imported
 * on demand so the client starts without loading the server, and the proxy without the rest.
 */
import { fileURLToPath } from 'node:url';
import { envLogLevel } from './config/env-knobs.js';
import { parseServerConfig } from './config/server-config.js';
import { userMessage } from './errors/app-error.js';
import { createLogger } from './log/logger.js';

const [mode, ...rest] = process.argv.slice(2);

async function main(): Promise<number | null> {
  switch (mode) {
    case 'server': {
      const config = parseServerConfig(rest);
      const { startServer } = await import('./server/start-server.js');
      await startServer(config, fileURLToPath(import.meta.url), createLogger({ level: config.logLevel }));
      return null; // runs until a signal
    }
    case 'proxy': {
      const takeover = rest.includes('--takeover');
      const config = parseServerConfig(rest.filter((a) => a !== '--takeover'));
      const { runProxy } = await import('./proxy/proxy-main.js');
      await runProxy({
        dataDir: config.dataDir,
        httpPort: config.httpPort,
        httpsPort: config.httpsPort,
        listen: config.listen,
        workers: config.proxyWorkers,
        logLevel: config.logLevel,
        user: config.proxyUser,
        limits: config.proxyLimits,
        trustedProxies: config.trustedProxies,
        takeover,
      });
      return null;
    }
    case 'admin': {
      const { runAdmin } = await import('./server/run-admin.js');
      return runAdmin(rest, createLogger({ level: envLogLevel('warn') }));
    }
    default: {
      const { runClient } = await import('./client/run-client.js');
      // the plugins are loaded only once the client needs them (`paas version` does not)
      return runClient(process.argv.slice(2), async () => {
        const [{ CommandRegistry }, { loadPlugins }] = await Promise.all([
          import('./plugin-host/command-registry.js'),
          import('./server/load-plugins.js'),
        ]);
        return new CommandRegistry(await loadPlugins());
      });
    }
  }
}

main().then(
  (code) => {
    if (code !== null) process.exitCode = code;
  },
  (err) => {
    process.stderr.write(`paas: ${userMessage(err)}\n`);
    process.exitCode = (err as { exitCode?: number }).exitCode ?? 1;
  },
);
