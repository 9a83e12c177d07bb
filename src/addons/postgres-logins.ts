import type { AppLogins } from './addon-type.js';

/**
 * PostgreSQL's per-app logins: one role per linked app that owns a schema of the same name in the
 * service's database and is confined to it. The role is created NOSUPERUSER NOCREATEDB
 * NOCREATEROLE NOREPLICATION NOBYPASSRLS and member of no role (so not of
 * pg_execute_server_program, pg_read_server_files or pg_write_server_files: no `COPY ... PROGRAM`,
 * no server files); its search_path is its own schema, so an app's unqualified `CREATE TABLE`
 * lands there. PUBLIC loses CREATE and USAGE on the `public` schema and CONNECT on every database,
 * so one app sees neither another app's schema nor the superuser's tables. Role and schema names
 * come from app names (`[a-z0-9-]`, `-` as `_`), so they need no escaping; passwords are hex.
 */
const ident = (name: string) => {
  if (!/^[a-z_][a-z0-9_]{0,62}$/.test(name)) throw new Error(`not a login name: ${name}`);
  return `"${name}"`;
};
const literal = (text: string) => {
  if (!/^[a-z0-9_]*$/.test(text)) throw new Error('not a safe literal');
  return `'${text}'`;
};

export const postgresLogins: AppLogins = {
  name: (app) => `app_${app.replaceAll('-', '_')}`,
  run: ['sh', '-c', 'exec psql -v ON_ERROR_STOP=1 -qAt -U "$POSTGRES_USER" -d "$POSTGRES_DB" -f -'],
  grant: (login, password) => `
BEGIN;
SELECT 'CREATE ROLE ${ident(login)}' WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = ${literal(login)}) \\gexec
ALTER ROLE ${ident(login)} WITH LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS INHERIT PASSWORD ${literal(password)};
SELECT format('REVOKE %I FROM ${ident(login)}', r.rolname) FROM pg_auth_members m JOIN pg_roles r ON r.oid = m.roleid
  WHERE m.member = (SELECT oid FROM pg_roles WHERE rolname = ${literal(login)}) \\gexec
SELECT 'CREATE SCHEMA ${ident(login)} AUTHORIZATION ${ident(login)}' WHERE NOT EXISTS (SELECT FROM pg_namespace WHERE nspname = ${literal(login)}) \\gexec
ALTER SCHEMA ${ident(login)} OWNER TO ${ident(login)};
ALTER ROLE ${ident(login)} SET search_path = ${ident(login)};
REVOKE ALL ON SCHEMA public FROM PUBLIC;
SELECT format('REVOKE ALL ON DATABASE %I FROM PUBLIC', datname) FROM pg_database WHERE datallowconn \\gexec
SELECT format('GRANT CONNECT, TEMPORARY ON DATABASE %I TO ${ident(login)}', current_database()) \\gexec
COMMIT;
`,
  disable: (login) => `
SELECT 'ALTER ROLE ${ident(login)} WITH NOLOGIN PASSWORD NULL' WHERE EXISTS (SELECT FROM pg_roles WHERE rolname = ${literal(login)}) \\gexec
SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE usename = ${literal(login)};
`,
  drop: (login) => `
SELECT 'ALTER ROLE ${ident(login)} WITH NOLOGIN PASSWORD NULL' WHERE EXISTS (SELECT FROM pg_roles WHERE rolname = ${literal(login)}) \\gexec
SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE usename = ${literal(login)};
SELECT 'DROP OWNED BY ${ident(login)} CASCADE' WHERE EXISTS (SELECT FROM pg_roles WHERE rolname = ${literal(login)}) \\gexec
DROP ROLE IF EXISTS ${ident(login)};
`,
};
