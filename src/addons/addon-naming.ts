import { randomBytes } from 'node:crypto';

/** Add-on names follow app names: `^[a-z][a-z0-9-]{0,47}$`. */
export const ADDON_NAME_RE = /^[a-z][a-z0-9-]{0,47}$/;

/** `paas-postgres-mydb`: the container's name and its host name on the linked apps' networks. */
export function addonContainerName(type: string, name: string): string {
  return `paas-${type}-${name}`;
}

/** `paas-postgres-mydb-data`, `-data-2` after a major upgrade (the old one is kept). */
export function addonVolumeName(type: string, name: string, generation = 1): string {
  return `paas-${type}-${name}-data${generation > 1 ? `-${generation}` : ''}`;
}

/** 32 random bytes as hex: strong, and safe in a URL without escaping. */
export function generatePassword(): string {
  return randomBytes(32).toString('hex');
}

/** The database name for an add-on: its name with `-` as `_` (valid unquoted in SQL). */
export function databaseName(name: string): string {
  return name.replaceAll('-', '_');
}

/** `MYDB_URL` for add-on `my-db`: the alias suggested when the default variable is taken. */
export function suggestedAlias(name: string, taken: (v: string) => boolean): string {
  const base = `${name.toUpperCase().replaceAll('-', '_')}_URL`;
  if (!taken(base)) return base;
  for (let i = 2; ; i++) if (!taken(`${base.slice(0, -4)}${i}_URL`)) return `${base.slice(0, -4)}${i}_URL`;
}

/** `2026-11-30T08-15-02-123Z`: a backup name that sorts by time and is safe as a file name. */
export function backupStamp(d = new Date()): string {
  return d.toISOString().replaceAll(':', '-').replace('.', '-');
}
