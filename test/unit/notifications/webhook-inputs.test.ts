import assert from 'node:assert/strict';
import { test } from 'node:test';
import { NOTIFICATION_EVENTS } from '../../../src/contracts/notification-sink.js';
import { parseEventList } from '../../../src/notifications/event-list.js';
import { SIGNATURE_HEADER, newSigningSecret, signDelivery, verifyDelivery } from '../../../src/notifications/webhook-signature.js';
import { maskWebhookUrl, parseWebhookUrl } from '../../../src/notifications/webhook-url.js';

test('webhook URLs: http and https with a host only, one clear reason otherwise', () => {
  assert.equal(parseWebhookUrl('https://hooks.example.com/x#frag').href, 'https://hooks.example.com/x');
  assert.equal(parseWebhookUrl('http://127.0.0.1:9000/hook?a=1').href, 'http://127.0.0.1:9000/hook?a=1');
  const refused: [string, RegExp][] = [
    ['ftp://example.com/x', /ftp is not http or https/],
    ['file:///etc/passwd', /file is not http or https/],
    ['javascript:alert(1)', /javascript is not http or https/],
    ['not a url', /spaces or control characters/],
    ['https://example.com/a\nb', /spaces or control characters/],
    ['example.com/hook', /expected http\(s\):\/\/host/],
    [`https://example.com/${'a'.repeat(2100)}`, /longer than 2048/],
  ];
  for (const [raw, why] of refused) {
    assert.throws(
      () => parseWebhookUrl(raw),
      (e: Error & { code?: string }) => e.code === 'PAAS_ERR_NOTIFY_URL' && why.test(e.message) && !e.message.includes('\n'),
      raw,
    );
  }
});

test('list output masks credentials: user and password, query values, token-length path segments', () => {
  assert.equal(
    maskWebhookUrl('https://hooks.slack.com/services/T0001/B0002/Zq8NvPZ3kE1pLw7yTqR5sXa2'),
    'https://hooks.slack.com/services/T0001/B0002/***',
  );
  assert.equal(
    maskWebhookUrl('https://discord.com/api/webhooks/123456789012345678/abcdefghijklmnopqrstuvwxyz-_0123'),
    'https://discord.com/api/webhooks/***/***',
  );
  assert.equal(
    maskWebhookUrl('https://user:pass@ci.example.com:8443/hook?token=s3cret&x=1'),
    'https://***@ci.example.com:8443/hook?token=***&x=***',
  );
  assert.equal(maskWebhookUrl('http://127.0.0.1:9000/ok/hook'), 'http://127.0.0.1:9000/ok/hook');
  assert.equal(maskWebhookUrl('::not a url::'), '***');
});

test('--events: all by default, a subset in catalog order, unknown or empty names refused', () => {
  assert.deepEqual(parseEventList(undefined), [...NOTIFICATION_EVENTS]);
  assert.deepEqual(parseEventList('all'), [...NOTIFICATION_EVENTS]);
  assert.deepEqual(parseEventList('app.crashed,deploy.failed,deploy.failed'), ['deploy.failed', 'app.crashed']);
  assert.throws(
    () => parseEventList('deploy.failed,deploy.boom'),
    /unknown event 'deploy.boom'; events are: deploy.succeeded, deploy.failed/,
  );
  assert.throws(
    () => parseEventList('deploy.failed,'),
    (e: Error & { code?: string }) => e.code === 'PAAS_ERR_NOTIFY_EVENTS',
  );
  assert.throws(() => parseEventList(''), /comma-separated/);
});

test('signatures: HMAC-SHA256 over "<timestamp>.<body>", refused when changed, signed by another secret, or too old', () => {
  const secret = newSigningSecret();
  assert.notEqual(secret, newSigningSecret());
  const body = '{"event":"deploy.failed"}';
  const now = 1_800_000_000;
  const signature = signDelivery(secret, now, body);
  assert.match(signature, /^sha256=[0-9a-f]{64}$/);
  assert.equal(SIGNATURE_HEADER, 'x-paas-signature');
  const ok = (s: string, ts: number, b: string, at = now) => verifyDelivery(secret, { signature: s, timestamp: String(ts) }, b, 300, at);
  assert.ok(ok(signature, now, body));
  assert.ok(!ok(signature, now, `${body} `), 'changed body');
  assert.ok(!ok(signature, now + 1, body), 'changed timestamp');
  assert.ok(!ok(signDelivery(`${secret}x`, now, body), now, body), 'another secret');
  assert.ok(!ok(signature, now, body, now + 301), 'replayed after 5 minutes');
  assert.ok(!verifyDelivery(secret, { signature: undefined, timestamp: String(now) }, body, 300, now));
});
