import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/** The headers a signed delivery carries. */
export const SIGNATURE_HEADER = 'x-paas-signature';
export const TIMESTAMP_HEADER = 'x-paas-timestamp';

/** A new per-notification signing secret (256 random bits), shown once by notifications:add. */
export function newSigningSecret(): string {
  return `whsec_${randomBytes(32).toString('base64url')}`;
}

/**
 * `sha256=<hex>`: HMAC-SHA256 with the secret over `<timestamp>.<body>`, the timestamp (unix
 * seconds) being the X-Paas-Timestamp header's, so a receiver can refuse an old delivery replayed.
 */
export function signDelivery(secret: string, timestamp: number, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex')}`;
}

/** What a receiver does (docs/notifications.md): recompute, compare in constant time, and check the age. */
export function verifyDelivery(
  secret: string,
  headers: { signature: string | undefined; timestamp: string | undefined },
  body: string,
  maxAgeSeconds = 300,
  nowSeconds = Math.floor(Date.now() / 1000),
): boolean {
  const ts = Number(headers.timestamp);
  if (!headers.signature || !Number.isInteger(ts) || Math.abs(nowSeconds - ts) > maxAgeSeconds) return false;
  const want = Buffer.from(signDelivery(secret, ts, body));
  const got = Buffer.from(headers.signature);
  return want.length === got.length && timingSafeEqual(want, got);
}
