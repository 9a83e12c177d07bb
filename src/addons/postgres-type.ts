import type { AddonType } from './addon-type.js';
import { postgresLogins } from './postgres-logins.js';

const PSQL = 'psql -v ON_ERROR_STOP=1 -qAt -U "$POSTGRES_USER" -d "$POSTGRES_DB"';

/**
 * Before a restore: the roles a dump names as owners or grantees (pg_dump's quoting, read from its
 * schema part) that this server lacks are created without login, so a dump keeps its owners (an
 * app's login owns its tables again) even from another service or server. The SQL is its own
 * argument (`$2`), never spliced into the shell line; names are quoted by format's %I.
 */
const DUMP_ROLES =
  "roles=$(pg_restore -s -f - \"$1\" | sed -n -e 's/^ALTER .* OWNER TO \\(.*\\);$/\\1/p' -e 's/^GRANT .* TO \\(.*\\) WITH GRANT OPTION;$/\\1/p' -e 's/^GRANT .* TO \\(.*\\);$/\\1/p' | sort -u)";
const CREATE_DUMP_ROLES = `SELECT format('CREATE ROLE %I NOLOGIN', n) FROM (
  SELECT CASE WHEN q LIKE '"%"' THEN replace(substr(q, 2, length(q) - 2), '""', '"') ELSE q END AS n
  FROM unnest(string_to_array(:'roles', E'\\n')) AS q WHERE q <> '' AND q <> 'PUBLIC') s
WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = n) \\gexec
`;

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
  restore: {
    kind: 'exec',
    argv: [
      'sh',
      '-c',
      // owners kept (no --no-owner): each app's login owns its tables after a restore as before it
      `set -e; ${DUMP_ROLES}; printf '%s' "$2" | ${PSQL} -v roles="$roles" -f -; exec pg_restore --clean --if-exists --single-transaction --exit-on-error -U "$POSTGRES_USER" -d "$POSTGRES_DB" "$1"`,
      'sh',
      '{file}',
      CREATE_DUMP_ROLES,
    ],
  },
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
