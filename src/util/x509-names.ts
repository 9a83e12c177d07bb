import type { X509Certificate } from 'node:crypto';

/**
 * The DNS names a certificate is valid for, lower-cased: its subjectAltName DNS entries, or its
 * subject CN when it has none (old self-made certificates).
 */
export function certificateNames(x509: X509Certificate): string[] {
  const san = x509.subjectAltName;
  if (san) {
    const names = san
      .split(/,\s*/)
      .filter((e) => e.startsWith('DNS:'))
      .map((e) => e.slice(4).toLowerCase());
    if (names.length > 0) return [...new Set(names)];
  }
  const cn = /(?:^|\n)CN=([^\n]+)/.exec(x509.subject)?.[1];
  return cn ? [cn.toLowerCase()] : [];
}

/** Whether `name` (a certificate name, maybe `*.example.com`) covers `host`; a wildcard covers exactly one label. */
export function nameCovers(name: string, host: string): boolean {
  if (name === host) return true;
  if (!name.startsWith('*.')) return false;
  const dot = host.indexOf('.');
  return dot > 0 && host.slice(dot + 1) === name.slice(2);
}

export function namesCover(names: readonly string[], host: string): boolean {
  return names.some((n) => nameCovers(n, host));
}
