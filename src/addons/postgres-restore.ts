/**
 * How a checked pg_dump (custom format, `$1`) replaces a Postgres add-on's data, run as the
 * superuser inside its container, all or nothing (`--single-transaction`):
 *
 * 1. the roles the dump names as owners or grantees that this server lacks are created without
 *    login (a dump of another service or server keeps its owners; a linked app's login owns its
 *    tables again);
 * 2. the dump's schemas are created by the superuser, owned as in the dump, and left out of the
 *    restore list: an app's login may not create schemas;
 * 3. pg_restore runs with `--use-set-session-authorization`: each object, and each table's rows,
 *    is restored as its owner, never as the superuser. A function an app planted in a CHECK
 *    constraint or a generated column, which the rows' COPY runs, thus runs as that app's own
 *    login; restored as the superuser it would run `COPY ... TO PROGRAM` in the container.
 *
 * The SQL of steps 1 and 2 is given as its own arguments (`$2`, `$3`), never spliced into the shell
 * line; names reach SQL only through format's %I. Names are read from pg_restore's own listings:
 * `ALTER ... OWNER TO` / `GRANT ... TO` lines of its schema script (quoted as pg_dump quotes
 * them), and `ID; OID OID SCHEMA - NAME OWNER` lines of its table of contents (a schema whose name
 * has a space stays in the list and is restored as its owner, or the restore fails as a whole).
 */
const PSQL = 'psql -v ON_ERROR_STOP=1 -qAt -U "$POSTGRES_USER" -d "$POSTGRES_DB"';
const IS_SCHEMA = 'NF == 7 && $4 == "SCHEMA" && $5 == "-"';

const SCRIPT = [
  'set -e',
  `roles=$(pg_restore -s -f - "$1" | sed -n -e 's/^ALTER .* OWNER TO \\(.*\\);$/\\1/p' -e 's/^GRANT .* TO \\(.*\\) WITH GRANT OPTION;$/\\1/p' -e 's/^GRANT .* TO \\(.*\\);$/\\1/p' | sort -u)`,
  `printf '%s' "$2" | ${PSQL} -v roles="$roles" -f -`,
  'list=$(mktemp)',
  `trap 'rm -f "$list"' EXIT`,
  'pg_restore -l "$1" > "$list"',
  `schemas=$(awk '${IS_SCHEMA} { print $6 " " $7 }' "$list")`,
  `printf '%s' "$3" | ${PSQL} -v schemas="$schemas" -f -`,
  `awk '!(${IS_SCHEMA})' "$list" > "$list.use"`,
  `trap 'rm -f "$list" "$list.use"' EXIT`,
  'pg_restore --clean --if-exists --single-transaction --exit-on-error --use-set-session-authorization -L "$list.use" -U "$POSTGRES_USER" -d "$POSTGRES_DB" "$1"',
].join('\n');

const CREATE_ROLES = `SELECT format('CREATE ROLE %I NOLOGIN', n) FROM (
  SELECT CASE WHEN q LIKE '"%"' THEN replace(substr(q, 2, length(q) - 2), '""', '"') ELSE q END AS n
  FROM unnest(string_to_array(:'roles', E'\\n')) AS q WHERE q <> '' AND q <> 'PUBLIC') s
WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = n) \\gexec
`;

const CREATE_SCHEMAS = `SELECT format('CREATE SCHEMA IF NOT EXISTS %I AUTHORIZATION %I', split_part(l, ' ', 1), split_part(l, ' ', 2))
  FROM unnest(string_to_array(:'schemas', E'\\n')) AS l WHERE l <> '' \\gexec
`;

/** The restore's argv; `{file}` is the staged dump. */
export const POSTGRES_RESTORE: string[] = ['sh', '-c', SCRIPT, 'sh', '{file}', CREATE_ROLES, CREATE_SCHEMAS];
