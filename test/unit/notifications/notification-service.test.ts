// notifications:* over a real SQLite file and a scripted sender: what is stored and listed (never
// the secret, the URL masked), which receivers an event goes to, the signature on each attempt,
// app.crashed folding, the test delivery, and a sink that never throws.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { silentLogger } from '../../../src/log/logger.js';
import { NotificationService } from '../../../src/notifications/notification-service.js';
import type { sendWebhook } from '../../../src/notifications/webhook-sender.js';
import { verifyDelivery } from '../../../src/notifications/webhook-signature.js';
import { openDatabase } from '../../../src/state/database.js';
import { NotificationsRepository } from '../../../src/state/notifications-repository.js';

interface Sent {
  url: string;
  headers: Record<string, string>;
  body: string;
}

function harness(status = 200) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'paas-notify-'));
  const db = openDatabase(path.join(dir, 'paas.db'));
  const repo = new NotificationsRepository(db);
  const sent: Sent[] = [];
  const send: typeof sendWebhook = async (url, headers, body) => {
    sent.push({ url: url.href, headers, body });
    const ok = status < 300;
    return { ok, status, error: ok ? null : `HTTP ${status}`, retry: status >= 500, ms: 3 };
  };
  const svc = new NotificationService({
    repo,
    policy: { maxAttempts: 2, baseDelayMs: 5, maxDelayMs: 10, maxQueued: 10 },
    timeouts: { connectMs: 100, responseMs: 100 },
    host: 'box',
    userAgent: 'paas/test',
    log: silentLogger(),
    send,
    crashQuietMs: 60_000,
  });
  const settle = () => new Promise((r) => setTimeout(r, 40));
  const done = () => {
    svc.close();
    if (db.open) db.close();
    fs.rmSync(dir, { recursive: true, force: true });
  };
  return { svc, repo, sent, settle, done };
}

test('add, list and remove: the secret is returned once, stored, never listed; bad input changes nothing', () => {
  const h = harness();
  try {
    const { info, secret } = h.svc.add('ops', 'https://hooks.slack.com/services/T1/B2/abcdefghijklmnopqrstuvwx', 'deploy.failed');
    assert.match(secret, /^whsec_/);
    assert.equal(info.url, 'https://hooks.slack.com/services/T1/B2/***');
    assert.deepEqual(info.events, ['deploy.failed']);
    assert.equal(h.repo.get('ops')?.secret, secret);
    assert.ok(!JSON.stringify(h.svc.list()).includes(secret));
    assert.ok(!JSON.stringify(h.svc.list()).includes('abcdefghijklmnopqrstuvwx'));
    assert.throws(
      () => h.svc.add('ops', 'https://x.example/'),
      (e: Error & { code?: string }) => e.code === 'PAAS_ERR_NOTIFY_EXISTS',
    );
    assert.throws(
      () => h.svc.add('-bad', 'https://x.example/'),
      (e: Error & { code?: string }) => e.code === 'PAAS_ERR_NOTIFY_NAME',
    );
    assert.throws(
      () => h.svc.add('new', 'gopher://x.example/'),
      (e: Error & { code?: string }) => e.code === 'PAAS_ERR_NOTIFY_URL',
    );
    assert.throws(
      () => h.svc.add('new', 'https://x.example/', 'nope'),
      (e: Error & { code?: string }) => e.code === 'PAAS_ERR_NOTIFY_EVENTS',
    );
    assert.deepEqual(
      h.svc.list().map((n) => n.name),
      ['ops'],
    );
    h.svc.remove('ops');
    assert.deepEqual(h.svc.list(), []);
    assert.throws(
      () => h.svc.remove('ops'),
      (e: Error & { code?: string }) => e.code === 'PAAS_ERR_NOTIFY_NOT_FOUND',
    );
  } finally {
    h.done();
  }
});

test('an event goes to the receivers subscribed to it, signed with each one’s secret, and the outcome is recorded', async () => {
  const h = harness();
  try {
    const a = h.svc.add('a', 'http://127.0.0.1:1/a', 'deploy.failed,app.crashed');
    const b = h.svc.add('b', 'http://127.0.0.1:1/b');
    h.svc.add('c', 'http://127.0.0.1:1/c', 'cert.failed');
    h.svc.notify({ event: 'deploy.failed', app: 'shop', release: 7, message: 'build failed' });
    await h.settle();
    assert.deepEqual(h.sent.map((s) => s.url).sort(), ['http://127.0.0.1:1/a', 'http://127.0.0.1:1/b']);
    for (const s of h.sent) {
      const secret = s.url.endsWith('/a') ? a.secret : b.secret;
      assert.ok(verifyDelivery(secret, { signature: s.headers['x-paas-signature'], timestamp: s.headers['x-paas-timestamp'] }, s.body));
      assert.equal(s.headers['x-paas-event'], 'deploy.failed');
      const p = JSON.parse(s.body);
      assert.deepEqual(
        { event: p.event, app: p.app, release: p.release, message: p.message, host: p.host, node: p.node },
        { event: 'deploy.failed', app: 'shop', release: 7, message: 'build failed', host: 'box', node: null },
      );
      assert.equal(p.text, '[paas box] deploy.failed shop v7: build failed');
      assert.equal(p.content, p.text);
    }
    const last = h.svc.list().find((n) => n.name === 'a')!.last!;
    assert.deepEqual(
      { event: last.event, ok: last.ok, status: last.status, attempts: last.attempts },
      { event: 'deploy.failed', ok: true, status: 200, attempts: 1 },
    );
    assert.equal(h.svc.list().find((n) => n.name === 'c')!.last, null);
  } finally {
    h.done();
  }
});

test('app.crashed is folded per app within the quiet window (an OOM kill sends oom then die)', async () => {
  const h = harness();
  try {
    h.svc.add('a', 'http://127.0.0.1:1/a', 'app.crashed');
    h.svc.notify({ event: 'app.crashed', app: 'shop', message: 'out of memory' });
    h.svc.notify({ event: 'app.crashed', app: 'shop', message: 'exited with code 137' });
    h.svc.notify({ event: 'app.crashed', app: 'blog', message: 'exited with code 1' });
    await h.settle();
    assert.deepEqual(h.sent.map((s) => JSON.parse(s.body).message).sort(), ['exited with code 1', 'out of memory']);
  } finally {
    h.done();
  }
});

test('notifications:test delivers once now and throws the receiver’s answer on failure; notify never throws', async () => {
  const h = harness(500);
  try {
    h.svc.add('a', 'http://127.0.0.1:1/a');
    await assert.rejects(
      h.svc.test('a'),
      (e: Error & { code?: string }) => e.code === 'PAAS_ERR_NOTIFY_DELIVERY' && /failed: HTTP 500/.test(e.message),
    );
    assert.equal(h.sent.length, 1, 'no retry for a test');
    assert.deepEqual(
      { ...h.svc.list()[0]!.last, at: '' },
      { event: 'test', ok: false, status: 500, error: 'HTTP 500', attempts: 1, at: '' },
    );
    await assert.rejects(h.svc.test('nobody'), /no notification 'nobody'/);
    h.done();
    // the database is closed: an emitter still returns normally
    h.svc.notify({ event: 'deploy.succeeded', app: 'shop', message: 'ok' });
  } catch (e) {
    h.done();
    throw e;
  }
});
