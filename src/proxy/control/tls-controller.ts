import { createPrivateKey, X509Certificate } from 'node:crypto';
import type { Logger } from '../../log/logger.js';
import { certificateNames } from '../../util/x509-names.js';
import { type ChallengeMap, isChallengeToken } from '../edge/acme-challenges.js';
import { ProxyErrors } from '../proxy-errors.js';
import { saveTlsState } from '../tls/tls-state-file.js';
import { parseTlsState, type TlsState } from '../tls/tls-state.js';
import type { WorkerPool } from '../process/worker-pool.js';

/** What GET /tls reports of one certificate (never its key). */
export interface TlsCertInfo {
  id: string;
  names: string[];
  serial: string;
  notAfter: string;
}

export interface TlsReport {
  certs: TlsCertInfo[];
  hosts: Record<string, { cert: string; redirect: boolean; hsts: boolean }>;
  challenges: number;
}

/**
 * The primary's side of TLS: keeps the state the control plane sent, writes it to the proxy's
 * own folder before telling the workers (so a worker restarted later loads the same), and holds
 * the pending ACME challenges, which live in memory only and are sent to every worker.
 */
export class TlsController {
  private state: TlsState;
  private challenges: ChallengeMap = {};
  private readonly file: string;
  private readonly workers: () => WorkerPool | null;
  private readonly log: Logger;

  constructor(initial: TlsState, file: string, workers: () => WorkerPool | null, log: Logger) {
    this.state = initial;
    this.file = file;
    this.workers = workers;
    this.log = log;
  }

  current(): { state: TlsState; challenges: ChallengeMap } {
    return { state: this.state, challenges: this.challenges };
  }

  async setState(input: unknown): Promise<TlsReport> {
    const state = parseTlsState(input);
    for (const c of state.certs) checkPair(c.id, c.cert, c.key);
    await saveTlsState(this.file, state);
    this.state = state;
    await this.workers()?.applyTls(state);
    this.log.info({ certs: state.certs.length, hosts: Object.keys(state.hosts).length }, 'TLS state applied');
    return this.report();
  }

  async setChallenge(token: string, keyAuthorization: unknown): Promise<void> {
    if (!isChallengeToken(token)) throw ProxyErrors.invalidSpec(`'${token}' is not an ACME token`);
    if (typeof keyAuthorization !== 'string' || !/^[A-Za-z0-9_.-]{1,512}$/.test(keyAuthorization))
      throw ProxyErrors.invalidSpec('keyAuthorization must be a token.thumbprint string');
    this.challenges = { ...this.challenges, [token]: keyAuthorization };
    await this.workers()?.applyChallenges(this.challenges);
  }

  async removeChallenge(token: string): Promise<void> {
    if (!(token in this.challenges)) return;
    const { [token]: _gone, ...rest } = this.challenges;
    this.challenges = rest;
    await this.workers()?.applyChallenges(this.challenges);
  }

  report(): TlsReport {
    return {
      certs: this.state.certs.map((c) => {
        const x = new X509Certificate(c.cert);
        return { id: c.id, names: certificateNames(x), serial: x.serialNumber, notAfter: new Date(x.validTo).toISOString() };
      }),
      hosts: this.state.hosts,
      challenges: Object.keys(this.challenges).length,
    };
  }
}

/** A certificate that does not parse or whose key does not match is refused before anything changes. */
function checkPair(id: string, cert: string, key: string): void {
  try {
    if (!new X509Certificate(cert).checkPrivateKey(createPrivateKey(key))) throw new Error('the key does not match the certificate');
  } catch (err) {
    throw ProxyErrors.invalidSpec(`TLS state: certificate '${id}' does not load: ${(err as Error).message}`, err);
  }
}
