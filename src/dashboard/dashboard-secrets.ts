import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/** A fresh random secret: 32 bytes (256 bits) as base64url, for login links, session cookies and CSRF tokens. */
export function newSecret(bytes = 32): string {
  return randomBytes(bytes).toString('base64url');
}

/** What SQLite keeps of a secret: its SHA-256, so a copy of the database opens no session. */
export function hashSecret(secret: string): string {
  return createHash('sha256').update(secret, 'utf8').digest('hex');
}

/** A short public session id for `dashboard:sessions` / `dashboard:revoke` (not a credential). */
export function newSessionId(): string {
  return randomBytes(6).toString('hex');
}

/** Compares two strings in constant time for their length (CSRF tokens). */
export function sameSecret(a: string, b: string): boolean {
  const x = Buffer.from(a, 'utf8');
  const y = Buffer.from(b, 'utf8');
  return x.length === y.length && timingSafeEqual(x, y);
}

/** A base64url secret as newSecret makes them (anything else is refused before a lookup). */
export function looksLikeSecret(text: string): boolean {
  return /^[A-Za-z0-9_-]{20,100}$/.test(text);
}
