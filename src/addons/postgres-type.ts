import type { AddonType } from './addon-type.js';
import { postgresLogins } from './postgres-logins.js';
import { POSTGRES_RESTORE } from './postgres-restore.js';

const PSQL = 'psql -v ON_ERROR_STOP=1 -qAt -U "$POSTGRES_USER" -d "$POSTGRES_DB"';

/** PostgreSQL: the official image's contract (POSTGRES_PASSWORD/USER/DB, PGDATA), dumps in pg_dump's custom format. */
export const postgresType: AddonType = {
  name: 'postgres',
  clientName: 'psql',
  defaultImage: 'postgres:17.5',
  imageEnv: 'PAAS_IMAGE_POSTGRES',
  defaultUser: 'postgres',
  port: 5432,
  volumePath: '/var/lib/postgresql/data',
  appLogins: postgresLogins,
  urlVar: 'DATABASE_URL',
  env: (c) => ({
    POSTGRES_USER: c.user,
    POSTGRES_PASSWORD: c.password,
    POSTGRES_DB: c.database,
    // a subdir of the volume: the volume's root also holds paas's staging files
    PGDATA: '/var/lib/postgresql/data/pgdata',
  }),
  command: () => null,
  url: (c, host) => `postgres://${c.user}:${encodeURIComponent(c.password)}@${host}:5432/${c.database}`,
  probe: ['sh', '-c', 'pg_isready -q -h 127.0.0.1 -U "$POSTGRES_USER" -d "$POSTGRES_DB"'],
  version: ['sh', '-c', 'postgres --version'],
  connect: ['sh', '-c', 'exec psql -U "$POSTGRES_USER" "$POSTGRES_DB"'],
  // custom format: compressed, and pg_restore can check it and restore it object by object
  dump: ['sh', '-c', 'exec pg_dump -Fc -U "$POSTGRES_USER" "$POSTGRES_DB"'],
  backup: { ext: 'dump', gzip: false },
  // --list reads the table of contents; the full read to /dev/null checks every data block
  verify: ['sh', '-c', 'pg_restore --list "$1" | grep -vc "^;" && pg_restore -f /dev/null "$1"', 'sh', '{file}'],
  // owners kept (no --no-owner) and every object restored as its owner: see postgres-restore.ts
  restore: { kind: 'exec', argv: POSTGRES_RESTORE },
  // every new transaction read-only (saved in the old data dir, so a failed upgrade's restart thaws
  // it again), and the open sessions cut so they reconnect under it
  freezeWrites: [
    'sh',
    '-c',
    `${PSQL} -c "ALTER SYSTEM SET default_transaction_read_only = on" -c "SELECT pg_reload_conf()" -c "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE pid <> pg_backend_pid() AND backend_type = 'client backend'"`,
  ],
  thawWrites: [
    'sh',
    '-c',
    `${PSQL} -c "SET default_transaction_read_only = off" -c "ALTER SYSTEM RESET default_transaction_read_only" -c "SELECT pg_reload_conf()"`,
  ],
  size: ['sh', '-c', `psql -U "$POSTGRES_USER" -d "$POSTGRES_DB" -Atc "SELECT pg_database_size(current_database())"`],
};
