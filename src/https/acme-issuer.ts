import { AsyncLocalStorage } from 'node:async_hooks';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import https from 'node:https';
import path from 'node:path';
import tls from 'node:tls';
import type AcmeClient from 'acme-client';
import { isAppError } from '../errors/app-error.js';
import type { Logger } from '../log/logger.js';
import { AcmeErrors } from './acme-errors.js';
import type { TlsProxyPort } from './tls-sync.js';

/** An RFC 8555 problem document the ACME server answered with, kept for the error line. */
interface Problem {
  status: number;
  type: string;
  detail: string;
  retryAfter: string | undefined;
}

interface Trace {
  last: Problem | null;
  /** a request that got no response (timeout, refused, TLS), with its code */
  network: (Error & { code?: string }) | null;
}

/** The problems of the current issuance (requests of concurrent issuances do not mix). */
const problems = new AsyncLocalStorage<Trace>();
let configured = false;

/**
 * acme-client talks through one shared axios instance: give it the timeout, the extra CA for the
 * ACME server's own TLS (Pebble's), no environment proxy, and no retries of its own (it would
 * sleep through a 429's retry-after); record problem documents for the error lines.
 */
function configureAxios(acme: typeof AcmeClient, timeoutMs: number, caPem: string | undefined): void {
  const ax = acme.axios;
  ax.defaults.timeout = timeoutMs;
  ax.defaults.proxy = false;
  ax.defaults.httpsAgent = new https.Agent({ ca: caPem ? [...tls.rootCertificates, caPem] : undefined, keepAlive: false });
  (ax.defaults as unknown as { acmeSettings: { retryMaxAttempts: number } }).acmeSettings.retryMaxAttempts = 0;
  if (configured) return;
  configured = true;
  // acme-client's own error interceptor turns a request without a response into a TypeError
  // ("reading 'config'"); record the network error first, at the head of the chain
  const chain = (ax.interceptors.response as unknown as { handlers: unknown[] }).handlers;
  chain.unshift({
    fulfilled: (r: unknown) => r,
    rejected: (err: Error & { code?: string; response?: unknown }) => {
      const store = problems.getStore();
      if (store && !err.response) store.network = err;
      return Promise.reject(err);
    },
    synchronous: false,
    runWhen: null,
  });
  ax.interceptors.response.use((resp) => {
    const store = problems.getStore();
    const data = resp.data as { type?: unknown; detail?: unknown } | undefined;
    if (store && resp.status >= 400 && data && typeof data.type === 'string') {
      const ra = resp.headers['retry-after'];
      store.last = {
        status: resp.status,
        type: data.type,
        detail: String(data.detail ?? ''),
        retryAfter: typeof ra === 'string' ? ra : undefined,
      };
    }
    return resp;
  });
}

export interface IssueRequest {
  directoryUrl: string;
  email: string;
  names: string[];
  /** one line per step, for the user */
  out: (line: string) => void;
}

export interface IssuedCert {
  certPem: string;
  keyPem: string;
}

export interface AcmeIssuerDeps {
  /** account keys live here, one per ACME directory, mode 600 */
  accountDir: string;
  proxy: TlsProxyPort;
  log: Logger;
  timeoutMs: number;
  /** extra CA (PEM) trusted for the ACME server's TLS (--acme-ca) */
  caPem?: string;
  /** polling of pending challenges and orders */
  pollMs?: number;
}

/** The time a rate-limited request may be retried, from Retry-After (seconds or a date); an hour when absent. */
export function retryAfterDate(value: string | undefined, now = Date.now()): Date {
  if (value && /^\d+$/.test(value)) return new Date(now + Number(value) * 1000);
  const d = value ? Date.parse(value) : Number.NaN;
  return Number.isNaN(d) ? new Date(now + 3_600_000) : new Date(d);
}

/**
 * One ACME order over http-01 with acme-client, step by step (account, order, a challenge per
 * name answered by the proxy, finalize), each step told to the user; every failure becomes one
 * AppError line naming what the ACME server said.
 */
export class AcmeIssuer {
  constructor(private readonly deps: AcmeIssuerDeps) {}

  /** acme-client (about 28 MB) is loaded at the first issuance, not by every control plane at start. */
  private async acme(): Promise<typeof AcmeClient> {
    const lib = (await import('acme-client')).default;
    configureAxios(lib, this.deps.timeoutMs, this.deps.caPem);
    return lib;
  }

  issue(req: IssueRequest): Promise<IssuedCert> {
    return problems.run({ last: null, network: null }, () => this.run(req));
  }

  private async run(req: IssueRequest): Promise<IssuedCert> {
    const { directoryUrl, email, names, out } = req;
    const poll = this.deps.pollMs ?? 500;
    const acme = await this.acme();
    const client = new acme.Client({
      directoryUrl,
      accountKey: await this.accountKey(acme, directoryUrl),
      backoffAttempts: 40,
      backoffMin: poll,
      backoffMax: poll * 4,
    });
    await this.step(directoryUrl, 'account', async () => {
      await client.createAccount({ termsOfServiceAgreed: true, contact: [`mailto:${email}`] });
    });
    out(`-----> Account ${email} at ${directoryUrl}: ready`);
    const order = await this.step(directoryUrl, 'order', () =>
      client.createOrder({ identifiers: names.map((value) => ({ type: 'dns', value })) }),
    );
    out(`-----> Order for ${names.join(', ')}`);
    const authzs = await this.step(directoryUrl, 'authorizations', () => client.getAuthorizations(order));
    const failures: string[] = [];
    await Promise.all(
      authzs.map(async (authz) => {
        const name = authz.identifier.value;
        if (authz.status === 'valid') {
          out(`       ${name}: already valid`);
          return;
        }
        const challenge = authz.challenges.find((c) => c.type === 'http-01');
        if (!challenge) {
          failures.push(`${name}: the ACME server offers no http-01 challenge`);
          return;
        }
        const keyAuthorization = await client.getChallengeKeyAuthorization(challenge);
        await this.deps.proxy.setChallenge(challenge.token, keyAuthorization);
        try {
          await this.step(directoryUrl, `challenge for ${name}`, async () => {
            await client.completeChallenge(challenge);
            await client.waitForValidStatus(challenge);
          });
          out(`       ${name}: http-01 challenge valid`);
        } catch (err) {
          const line = `${name}: ${(err as Error).message}`;
          out(`       ${line}`);
          failures.push(line);
          if ((err as { code?: string }).code === AcmeErrors.rateLimited.code) throw err;
        } finally {
          await this.deps.proxy.removeChallenge(challenge.token).catch(() => {});
        }
      }),
    );
    if (failures.length) throw AcmeErrors.rejected(`the ACME server refused: ${failures.join('; ')}`);
    const [keyPem, csr] = await acme.crypto.createCsr({ altNames: names, ...(names[0].length <= 64 ? { commonName: names[0] } : {}) });
    const certPem = await this.step(directoryUrl, 'finalize', async () => {
      const done = await client.finalizeOrder(order, csr);
      return client.getCertificate(done);
    });
    out('-----> Finalize: certificate issued');
    return { certPem, keyPem: keyPem.toString() };
  }

  /** `<accountDir>/<hash of the directory URL>.key`, made on first use (mode 600). */
  private async accountKey(acme: typeof AcmeClient, directoryUrl: string): Promise<Buffer> {
    const file = path.join(this.deps.accountDir, `${createHash('sha256').update(directoryUrl).digest('hex').slice(0, 16)}.key`);
    try {
      return fs.readFileSync(file);
    } catch {
      fs.mkdirSync(this.deps.accountDir, { recursive: true, mode: 0o700 });
      const key = await acme.crypto.createPrivateEcdsaKey();
      fs.writeFileSync(file, key, { mode: 0o600, flag: 'wx' });
      return fs.readFileSync(file);
    }
  }

  /** Runs one step; a network failure or a problem document becomes one AppError line. */
  private async step<T>(directoryUrl: string, what: string, fn: () => Promise<T>): Promise<T> {
    const store = problems.getStore();
    if (store) {
      store.last = null;
      store.network = null;
    }
    try {
      return await fn();
    } catch (err) {
      throw this.classify(directoryUrl, what, store?.network ?? err, store?.last ?? null);
    }
  }

  private classify(directoryUrl: string, what: string, err: unknown, problem: Problem | null): Error {
    const e = err as Error & { code?: string };
    if (isAppError(e)) return e;
    if (e.code === 'ECONNABORTED' || e.code === 'ETIMEDOUT' || /timeout/i.test(e.message)) {
      return AcmeErrors.unreachable(
        `the ACME server at ${directoryUrl} did not answer within ${Math.round(this.deps.timeoutMs / 1000)} s (${what})`,
        err,
      );
    }
    if (
      !problem &&
      e.code &&
      /^(E[A-Z_]+|ERR_[A-Z_]+|[A-Z_]+_CERT[A-Z_]*|SELF_SIGNED[A-Z_]*|UNABLE_TO[A-Z_]*|CERT_[A-Z_]+|DEPTH_ZERO[A-Z_]*)$/.test(e.code)
    ) {
      const why = e.message.includes(e.code) ? e.message : `${e.code} ${e.message}`;
      return AcmeErrors.unreachable(`cannot reach the ACME server at ${directoryUrl}: ${why}`.trim(), err);
    }
    if (problem && (problem.status === 429 || problem.type.endsWith(':rateLimited'))) {
      const until = retryAfterDate(problem.retryAfter);
      const rl = AcmeErrors.rateLimited(
        `rate limited by the ACME server (${what}): ${problem.detail}; retry after ${until.toISOString()}`,
        err,
      );
      return Object.assign(rl, { retryAfter: until });
    }
    const detail = problem?.detail || e.message;
    return AcmeErrors.rejected(what.startsWith('challenge') ? detail : `the ACME server refused the ${what}: ${detail}`, err);
  }
}
