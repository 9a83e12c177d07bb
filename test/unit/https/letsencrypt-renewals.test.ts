// Renewal timing, backoff and rate limits of the Let's Encrypt service over a real SQLite file,
// and the rate-limit path of the real ACME client (acme-client) against a local HTTP server that
// answers like an ACME server under a rate limit (Pebble has no rate limits to trigger).
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { silentLogger } from '../../../src/log/logger.js';
import { AcmeErrors } from '../../../src/https/acme-errors.js';
import { AcmeIssuer, type IssueRequest, retryAfterDate } from '../../../src/https/acme-issuer.js';
import { renewalTime } from '../../../src/https/letsencrypt-service.js';
import { RenewalScheduler } from '../../../src/https/renewal-scheduler.js';
import { State } from '../../../src/state/state.js';
import { letsEncryptOver } from '../../helpers/letsencrypt-unit.js';

const DAY = 86_400_000;
const noProxy = { setTls: async () => 0, setChallenge: async () => 0, removeChallenge: async () => 0 };

describe('renewalTime', () => {
  const from = '2030-01-01T00:00:00.000Z';
  const at = (days: number) => new Date(Date.parse(from) + days * DAY).toISOString();
  test('a 90-day certificate renews 30 days before expiry (day 60)', () => {
    assert.equal(renewalTime(from, at(90), 0).toISOString(), at(60));
  });
  test('a 6-day certificate renews at two thirds of its life (day 4)', () => {
    assert.equal(renewalTime(from, at(6), 0).toISOString(), at(4));
  });
  test('a 1-year certificate renews at two thirds (day 243.33), before 30 days before expiry', () => {
    assert.equal(renewalTime(from, at(365), 0).getTime(), Date.parse(from) + (365 * DAY * 2) / 3);
  });
  test('jitter moves it earlier by at most 5% of the lifetime', () => {
    const t = renewalTime(from, at(90), 1).getTime();
    assert.equal(t, Date.parse(at(60)) - 0.05 * 90 * DAY);
  });
});

test('retryAfterDate reads seconds or an HTTP date, an hour when absent', () => {
  const now = Date.parse('2030-01-01T00:00:00Z');
  assert.equal(retryAfterDate('120', now).getTime(), now + 120_000);
  assert.equal(retryAfterDate('Wed, 02 Jan 2030 00:00:00 GMT', now).toISOString(), '2030-01-02T00:00:00.000Z');
  assert.equal(retryAfterDate(undefined, now).getTime(), now + 3_600_000);
});

/** A local server speaking just enough ACME for acme-client to reach newAccount, which answers 429 rateLimited. */
let server: http.Server;
let directory: string;
before(async () => {
  server = http.createServer((req, res) => {
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    if (req.url === '/dir') {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ newNonce: `${base}/nonce`, newAccount: `${base}/account`, newOrder: `${base}/order` }));
    } else if (req.url === '/nonce') {
      res.writeHead(200, { 'replay-nonce': `n${Date.now()}`, 'cache-control': 'no-store' });
      res.end();
    } else {
      req.resume();
      res.writeHead(429, { 'content-type': 'application/problem+json', 'retry-after': '120', 'replay-nonce': `n${Date.now()}` });
      res.end(
        JSON.stringify({ type: 'urn:ietf:params:acme:error:rateLimited', detail: 'too many new accounts from this IP', status: 429 }),
      );
    }
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  directory = `http://127.0.0.1:${(server.address() as AddressInfo).port}/dir`;
});
after(() => server.close());

function setup(issue: (req: IssueRequest) => Promise<{ certPem: string; keyPem: string }>) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'paas-le-unit-'));
  const state = State.open(path.join(dir, 'paas.db'));
  state.apps.create('web');
  const le = letsEncryptOver(state, issue, { directoryUrl: directory });
  return { state, le, dir };
}

test('a rateLimited answer is reported with its retry-after, and nothing is retried before it, even after a restart', async () => {
  const issuer = new AcmeIssuer({
    accountDir: fs.mkdtempSync(path.join(os.tmpdir(), 'paas-acct-')),
    proxy: noProxy,
    log: silentLogger(),
    timeoutMs: 5000,
  });
  const { state, le, dir } = setup((req) => issuer.issue(req));
  state.acme.enable('web');
  const t0 = Date.now();
  await assert.rejects(
    le.issue('web', () => {}, true),
    (err: Error & { code?: string }) => {
      assert.equal(err.code, AcmeErrors.rateLimited.code);
      assert.match(err.message, /^rate limited by the ACME server \(account\): too many new accounts from this IP; retry after \d{4}-/);
      return true;
    },
  );
  const row = state.acme.get('web')!;
  const next = Date.parse(row.nextAttemptAt!);
  assert.ok(next >= t0 + 119_000 && next <= Date.now() + 121_000, `next attempt ${row.nextAttemptAt}`);
  assert.equal(row.failures, 1);
  assert.match(row.lastError ?? '', /rate limited/);
  assert.deepEqual(le.dueApps(), [], 'not due before the retry-after');
  assert.deepEqual(le.dueApps(next + 1), ['web'], 'due once it has passed');
  // the wait is in SQLite: a new service on the same file (a restarted control plane) keeps it
  state.close();
  const again = State.open(path.join(dir, 'paas.db'));
  assert.equal(again.acme.get('web')?.nextAttemptAt, row.nextAttemptAt);
  again.close();
});

test('failures back off (base, then double) and keep the working certificate; the scheduler renews only due apps', async () => {
  let calls = 0;
  const { state, le } = setup(async () => {
    calls++;
    throw AcmeErrors.rejected('the ACME server refused: web.example.test: connection refused');
  });
  state.acme.enable('web');
  // a working certificate that is due (10 of 90 days left)
  const working = {
    app: 'web',
    source: 'letsencrypt' as const,
    certPem: 'PEM',
    keyPem: 'KEY',
    names: ['web.example.test'],
    issuer: 'test',
    serial: 'AB',
    notBefore: new Date(Date.now() - 80 * DAY).toISOString(),
    notAfter: new Date(Date.now() + 10 * DAY).toISOString(),
  };
  state.certificates.put(working);
  assert.deepEqual(le.dueApps(), ['web']);
  const before = Date.now();
  await assert.rejects(
    le.issue('web', () => {}, false),
    /connection refused/,
  );
  const first = Date.parse(state.acme.get('web')!.nextAttemptAt!) - before;
  assert.ok(first >= 59_000 && first <= 61_000 + (Date.now() - before), `first backoff ${first}`);
  // a command's retry before the backoff ends is refused (acme-order-gate.ts), and is no new failure
  await assert.rejects(
    le.issue('web', () => {}, false),
    { code: AcmeErrors.rateLimited.code, message: /next attempt is allowed from/ },
  );
  assert.equal(calls, 1);
  assert.equal(state.acme.get('web')!.failures, 1);
  // once it has passed, the next failure doubles it
  state.db.prepare('UPDATE acme_apps SET next_attempt_at = ?').run(new Date(Date.now() - 1000).toISOString());
  await assert.rejects(
    le.issue('web', () => {}, false),
    /connection refused/,
  );
  const second = Date.parse(state.acme.get('web')!.nextAttemptAt!) - Date.now();
  assert.ok(second > 115_000 && second <= 120_000, `second backoff ${second}`);
  assert.equal(state.acme.get('web')!.failures, 2);

  // the scheduler skips an app that is backing off
  const sched = new RenewalScheduler(le, { intervalMs: 10, firstDelayMs: 10 }, silentLogger());
  calls = 0;
  await sched.tick();
  assert.equal(calls, 0);
  assert.equal(state.certificates.get('web', 'letsencrypt')?.serial, 'AB', 'the working certificate stays');
  // once the backoff has passed it is due again, and the scheduler tries it
  state.acme.failed('web', 'x', new Date(Date.now() - 1000).toISOString());
  await sched.tick();
  assert.equal(calls, 1);
});
