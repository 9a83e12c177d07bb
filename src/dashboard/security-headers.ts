/** The Content-Security-Policy of every dashboard response: no inline script or style, no framing, nothing from elsewhere. */
export const CONTENT_SECURITY_POLICY =
  "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; font-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

/** Headers on every dashboard response (Cache-Control is set per route kind). */
export const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'content-security-policy': CONTENT_SECURITY_POLICY,
  'x-frame-options': 'DENY',
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-resource-policy': 'same-origin',
};

/** The session cookie's name and attributes. */
export const SESSION_COOKIE = 'paas_session';

/** The session cookie's attributes: never readable by scripts, never sent over HTTP or from another site. */
export function sessionCookieOptions(maxAgeSeconds: number) {
  return { httpOnly: true, secure: true, sameSite: 'strict', path: '/', maxAge: Math.max(1, Math.floor(maxAgeSeconds)) } as const;
}
