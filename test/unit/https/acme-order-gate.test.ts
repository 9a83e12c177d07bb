// When an app may order a certificate (issue 21, hole 7): the gate's rules on a fake clock, then
// the Let's Encrypt service over a real SQLite file with a fake ACME issuer (the budget outlives a
// restart, the scheduler waits for it too, and disable/enable keeps a failure's backoff).
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, test } from 'node:test';
import { AcmeErrors } from '../../../src/https/acme-errors.js';
import {
  DEFAULT_ORDER_POLICY,
  type OrderPolicy,
  orderRefusal,
  type PastOrder,
  refusalMessage,
} from '../../../src/https/acme-order-gate.js';
import type { IssueRequest } from '../../../src/https/acme-issuer.js';
import { BY_SCHEDULER } from '../../../src/https/letsencrypt-service.js';
import { State } from '../../../src/state/state.js';
import { letsEncryptOver } from '../../helpers/letsencrypt-unit.js';

const H = 3_600_000;
const DAY = 24 * H;
const T = Date.parse('2030-01-10T00:00:00Z');
const policy = DEFAULT_ORDER_POLICY;
const dev = { forced: false, admin: false };
const devForced = { forced: true, admin: false };
const issuedAt = (...hoursAgo: number[]): PastOrder[] => hoursAgo.map((h) => ({ at: T - h * H, forced: false, issued: true }));

describe('orderRefusal (fake clock)', () => {
  test('the defaults: 5 certificates per app per 7 days, forced orders an hour apart', () => {
    assert.deepEqual(policy, { maxIssued: 5, windowMs: 7 * DAY, forceSpacingMs: H });
  });
  test('nothing in the way: null', () => {
    assert.equal(orderRefusal([], null, devForced, policy, T), null);
  });
  test('four certificates in the week leave one more; five refuse until the oldest leaves the window', () => {
    assert.equal(orderRefusal(issuedAt(100, 50, 20, 10), null, dev, policy, T), null);
    const r = orderRefusal(issuedAt(100, 50, 20, 10, 1), null, dev, policy, T);
    assert.deepEqual(r, { reason: 'budget', allowedAt: T - 100 * H + 7 * DAY, issued: 5 });
    assert.equal(orderRefusal(issuedAt(100, 50, 20, 10, 1), null, dev, policy, r!.allowedAt), null, 'free at that time');
    assert.notEqual(orderRefusal(issuedAt(100, 50, 20, 10, 1), null, dev, policy, r!.allowedAt - 1), null, 'not a moment before');
  });
  test('more than the budget (an admin ordered too): free when enough of the oldest have left', () => {
    const r = orderRefusal(issuedAt(150, 100, 50, 20, 10, 1), null, dev, policy, T);
    assert.deepEqual(r, { reason: 'budget', allowedAt: T - 100 * H + 7 * DAY, issued: 6 });
  });
  test('failed orders and orders older than the window are not in the budget', () => {
    const history = [
      ...issuedAt(8 * 24, 9 * 24, 20, 10),
      { at: T - H, forced: false, issued: false },
      { at: T - 2 * H, forced: false, issued: false },
    ];
    assert.equal(orderRefusal(history, null, dev, policy, T), null);
  });
  test('a forced order within an hour of the last forced one is refused; an unforced one is not', () => {
    const history: PastOrder[] = [
      { at: T - 30 * 60_000, forced: true, issued: false },
      { at: T - 60_000, forced: false, issued: true },
    ];
    assert.deepEqual(orderRefusal(history, null, devForced, policy, T), {
      reason: 'spacing',
      allowedAt: T + 30 * 60_000,
      lastForcedAt: T - 30 * 60_000,
    });
    assert.equal(orderRefusal(history, null, dev, policy, T), null);
    assert.equal(orderRefusal(history, null, devForced, policy, T + 30 * 60_000), null);
  });
  test('a pending backoff refuses everyone, admins and the scheduler included; a past one does not', () => {
    for (const req of [dev, devForced, { forced: true, admin: true }])
      assert.deepEqual(orderRefusal([], T + 5 * 60_000, req, policy, T), { reason: 'backoff', allowedAt: T + 5 * 60_000 });
    assert.equal(orderRefusal([], T, dev, policy, T), null);
  });
  test('an admin skips the budget and the spacing', () => {
    const history = [...issuedAt(5, 4, 3, 2), { at: T - 60_000, forced: true, issued: true }];
    assert.equal(orderRefusal(history, null, { forced: true, admin: true }, policy, T), null);
  });
  test('several refusals: the one that holds longest', () => {
    const history = [...issuedAt(100, 50, 20, 10), { at: T - 60_000, forced: true, issued: true }];
    assert.equal(orderRefusal(history, T + 10 * 60_000, devForced, policy, T)?.reason, 'budget');
    assert.equal(orderRefusal(history, T + 8 * DAY, devForced, policy, T)?.reason, 'backoff');
    assert.equal(orderRefusal(issuedAt(1), T + 10 * 60_000, { forced: true, admin: false }, policy, T)?.reason, 'backoff');
  });
  test('each refusal is one line with the time the next attempt is allowed', () => {
    const from = '2030-01-10T01:00:00.000Z';
    assert.equal(
      refusalMessage('web', { reason: 'backoff', allowedAt: T + H }, policy),
      `the last certificate order for web failed (letsencrypt:list shows why); the next attempt is allowed from ${from}`,
    );
    assert.equal(
      refusalMessage('web', { reason: 'budget', allowedAt: T + H, issued: 5 }, policy),
      `web got 5 certificates in the last 7 days, the most one app may order; the next order is allowed from ${from}`,
    );
    assert.equal(
      refusalMessage('web', { reason: 'spacing', allowedAt: T + H, lastForcedAt: T }, policy),
      `web had a forced order at 2030-01-10T00:00:00.000Z and forced orders are at most one per hour; the next is allowed from ${from}`,
    );
  });
});

/** A real certificate for web.example.test, as an ACME server would issue it. */
function realCert(dir: string): { certPem: string; keyPem: string } {
  const key = path.join(dir, 'k.pem');
  const crt = path.join(dir, 'c.pem');
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:P-256',
      '-nodes',
      '-days',
      '90',
      '-subj',
      '/CN=web.example.test',
    ].concat(['-addext', 'subjectAltName=DNS:web.example.test', '-keyout', key, '-out', crt]),
    { stdio: 'ignore' },
  );
  return { certPem: fs.readFileSync(crt, 'utf8'), keyPem: fs.readFileSync(key, 'utf8') };
}

describe('LetsEncryptService holds every order to the gate (real SQLite, fake issuer)', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'paas-gate-'));
  const cert = realCert(dir);
  const noSpacing: OrderPolicy = { ...DEFAULT_ORDER_POLICY, forceSpacingMs: 0 };

  function open(file: string, issue: (req: IssueRequest) => Promise<{ certPem: string; keyPem: string }>, orderPolicy = noSpacing) {
    const state = State.open(file);
    const le = letsEncryptOver(state, issue, { directoryUrl: 'https://acme.invalid/dir', orderPolicy });
    return { state, le };
  }

  test('five forced orders a week, then refused, also after a restart; an admin is not held to it', async () => {
    const file = path.join(dir, 'budget.db');
    let calls = 0;
    const issue = async () => {
      calls++;
      return cert;
    };
    let { state, le } = open(file, issue);
    state.apps.create('web');
    await le.enable('web', () => {});
    for (let i = 0; i < 4; i++) await le.renew('web', true, () => {});
    assert.equal(calls, 5);
    const refused = { code: AcmeErrors.rateLimited.code, message: /^web got 5 certificates in the last 7 days.* allowed from \S+$/ };
    await assert.rejects(
      le.renew('web', true, () => {}),
      refused,
    );
    assert.equal(calls, 5, 'nothing was ordered');
    state.close();
    ({ state, le } = open(file, issue));
    await assert.rejects(
      le.renew('web', true, () => {}),
      refused,
    );
    assert.equal(calls, 5);
    await le.renew('web', true, () => {}, { by: 'command', admin: true });
    assert.equal(calls, 6, "an admin's order goes");
    assert.equal(state.acme.orders('web').length, 6);
    state.close();
  });

  test('forced orders are spaced by the policy', async () => {
    const { state, le } = open(path.join(dir, 'spacing.db'), async () => cert, DEFAULT_ORDER_POLICY);
    state.apps.create('web');
    await le.enable('web', () => {});
    await le.renew('web', true, () => {});
    await assert.rejects(
      le.renew('web', true, () => {}),
      { code: AcmeErrors.rateLimited.code, message: /forced orders are at most one per hour/ },
    );
    assert.equal(state.acme.orders('web').length, 2);
    state.close();
  });

  test('the scheduler waits for the budget too: an app over it is not due, even when its names changed', async () => {
    let host = 'web.example.test';
    const state = State.open(path.join(dir, 'sched.db'));
    state.apps.create('web');
    const le = letsEncryptOver(state, async () => cert, {
      directoryUrl: 'https://acme.invalid/dir',
      orderPolicy: noSpacing,
      hosts: () => [host],
    });
    await le.enable('web', () => {});
    host = 'www.example.test';
    assert.deepEqual(le.dueApps(), ['web'], 'names changed: due');
    for (let i = 0; i < 4; i++) await le.renew('web', true, () => {});
    assert.deepEqual(le.dueApps(), [], 'over the budget: not due');
    const shown = Date.parse(le.list()[0].nextRenewal!);
    assert.ok(
      shown > Date.now() + 7 * DAY - 60_000 && shown <= Date.now() + 7 * DAY,
      `letsencrypt:list shows when: ${le.list()[0].nextRenewal}`,
    );
    assert.deepEqual(le.dueApps(Date.now() + 7 * DAY + 60_000), ['web'], 'due once the week has passed');
    await assert.rejects(
      le.issue('web', () => {}, false, BY_SCHEDULER),
      /got 5 certificates/,
    );
    state.close();
  });

  test('disable and enable keep the backoff of a failure the ACME server counted, not of an unreachable server', async () => {
    let fail: Error | null = AcmeErrors.rejected('the ACME server refused: web.example.test: connection refused');
    const { state, le } = open(path.join(dir, 'backoff.db'), async () => {
      if (fail) throw fail;
      return cert;
    });
    state.apps.create('web');
    await assert.rejects(
      le.enable('web', () => {}),
      /connection refused/,
    );
    assert.equal(le.isEnabled('web'), false, 'a failed enable changes nothing');
    const backoff = /^the last certificate order for web failed .*next attempt is allowed from (\S+)$/;
    fail = null;
    await assert.rejects(
      le.enable('web', () => {}),
      { code: AcmeErrors.rateLimited.code, message: backoff },
    );
    assert.equal(le.isEnabled('web'), false);
    assert.equal(state.acme.orders('web').length, 1, 'the refusal placed no order');

    state.apps.create('api');
    fail = AcmeErrors.unreachable('the ACME directory did not answer within 3 s');
    await assert.rejects(
      le.enable('api', () => {}),
      /did not answer/,
    );
    fail = null;
    await le.enable('api', () => {});
    assert.equal(le.isEnabled('api'), true, 'an unreachable server counted nothing: enable works right away');
    state.close();
  });
});
