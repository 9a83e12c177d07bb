import path from 'node:path';
import { dataPaths } from '../../config/server-config.js';
import type { Logger } from '../../log/logger.js';
import { writeJsonAtomicAsync } from '../../util/atomic-json.js';
import { readNoFollow } from './tls-cert.js';
import { EMPTY_TLS_STATE, parseTlsState, type TlsState } from './tls-state.js';

/** `<data-dir>/certs/tls.json`: the certificates the proxy serves, owned by the proxy user, mode 600. */
export function tlsStateFile(dataDir: string): string {
  return path.join(dataPaths(dataDir).certs, 'tls.json');
}

/**
 * Reads the last TLS state the control plane sent, so a (re)started proxy or worker serves the
 * certificates before it listens, with or without a control plane. A missing file is no
 * certificates; an unreadable one is logged and treated the same (the default certificate
 * serves until the control plane sends the state again at its start).
 */
export async function loadTlsState(file: string, log: Logger): Promise<TlsState> {
  let text: string;
  try {
    text = (await readNoFollow(file)).toString('utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') log.error({ file, err: (err as Error).message }, 'cannot read the TLS state');
    return EMPTY_TLS_STATE;
  }
  try {
    return parseTlsState(JSON.parse(text));
  } catch (err) {
    log.error({ file, err: (err as Error).message }, 'the TLS state file is not valid; serving the default certificate');
    return EMPTY_TLS_STATE;
  }
}

let chain: Promise<void> = Promise.resolve();

/** Writes the state (temp file + rename, mode 600); concurrent saves land in call order. */
export function saveTlsState(file: string, state: TlsState): Promise<void> {
  const run = () => writeJsonAtomicAsync(file, state, { mode: 0o600 });
  const next = chain.then(run, run);
  chain = next.catch(() => {});
  return next;
}
