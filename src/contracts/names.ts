// The naming rules every layer shares: app names, `<app>.<domain>` hosts and `vN` release names.
// Pure functions over strings; this folder imports nothing of the project.

/** App names: `^[a-z][a-z0-9-]{0,47}$` (the product contract). */
export const APP_NAME = /^[a-z][a-z0-9-]{0,47}$/;

export function isAppName(name: string): boolean {
  return APP_NAME.test(name);
}

/** The host every app gets without a custom domain: `<app>.<global domain>`. */
export function appHost(app: string, domain: string): string {
  return `${app}.${domain}`;
}

/** `v3` or `3` -> 3; anything else (or a number past nine digits) -> null. */
export function parseReleaseVersion(text: string): number | null {
  const m = /^v?(\d{1,9})$/.exec(text);
  return m ? Number(m[1]) : null;
}
