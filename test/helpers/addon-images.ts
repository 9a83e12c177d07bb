// Local stand-ins for the official `postgres` and `redis` images (nothing can be pulled here),
// made from Debian's packages with a short entrypoint that keeps the official images' contract:
//   postgres: POSTGRES_PASSWORD / POSTGRES_USER / POSTGRES_DB, PGDATA, port 5432, initialised
//             only when the command is `postgres`, local connections trusted, others scram;
//   redis:    WORKDIR /data, `redis-server --requirepass ...` as the command, port 6379.
// Tests point PAAS_IMAGE_POSTGRES / PAAS_IMAGE_REDIS at them: paas runs them exactly as it runs
// the official images.
import fs from 'node:fs/promises';
import path from 'node:path';
import { ensureDebootstrapImage, PATH_ENV } from './base-images.js';

export const POSTGRES_IMAGE = 'paas-test/postgres:15';
/** an older major version (Debian bullseye's), for the major-upgrade test */
export const POSTGRES_13_IMAGE = 'paas-test/postgres:13';
export const REDIS_IMAGE = 'paas-test/redis:7';

const POSTGRES_ENTRYPOINT = `#!/bin/bash
# the official postgres image's contract, around Debian's postgresql-15
set -e
if [ "\${1:0:1}" = '-' ]; then set -- postgres "$@"; fi
if [ "$1" = 'postgres' ] && [ "$(id -u)" = '0' ]; then
  mkdir -p "$PGDATA" /var/run/postgresql
  chown -R postgres:postgres "$PGDATA" /var/run/postgresql
  chmod 700 "$PGDATA"
  exec setpriv --reuid=postgres --regid=postgres --init-groups "$0" "$@"
fi
if [ "$1" = 'postgres' ] && [ ! -s "$PGDATA/PG_VERSION" ]; then
  POSTGRES_USER="\${POSTGRES_USER:-postgres}"
  POSTGRES_DB="\${POSTGRES_DB:-$POSTGRES_USER}"
  if [ -z "$POSTGRES_PASSWORD" ]; then
    echo 'Error: Database is uninitialized and superuser password is not specified.' >&2
    exit 1
  fi
  initdb --username="$POSTGRES_USER" --pwfile=<(printf '%s\\n' "$POSTGRES_PASSWORD") -D "$PGDATA" \\
    --auth-local=trust --auth-host=scram-sha-256 --encoding=UTF8 --locale=C.UTF-8 >/dev/null
  printf 'host all all all scram-sha-256\\n' >> "$PGDATA/pg_hba.conf"
  printf "listen_addresses = '*'\\n" >> "$PGDATA/postgresql.conf"
  pg_ctl -D "$PGDATA" -o "-c listen_addresses=''" -w start >/dev/null
  if [ "$POSTGRES_DB" != 'postgres' ]; then
    psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname postgres -qc "CREATE DATABASE \\"$POSTGRES_DB\\""
  fi
  pg_ctl -D "$PGDATA" -m fast -w stop >/dev/null
  echo 'PostgreSQL init process complete; ready for start up.'
fi
exec "$@"
`;

const REDIS_ENTRYPOINT = `#!/bin/sh
# the official redis image's contract, around Debian's redis-server
set -e
if [ "\${1#-}" != "$1" ] || [ "\${1%.conf}" != "$1" ]; then set -- redis-server "$@"; fi
if [ "$1" = 'redis-server' ] && [ "$(id -u)" = '0' ]; then
  find . \\! -user redis -exec chown redis '{}' +
  exec setpriv --reuid=redis --regid=redis --init-groups "$0" "$@"
fi
exec "$@"
`;

async function writeEntrypoint(root: string, text: string): Promise<void> {
  const file = path.join(root, 'usr/local/bin/docker-entrypoint.sh');
  await fs.mkdir(path.dirname(file), { recursive: true });
  await fs.writeFile(file, text, { mode: 0o755 });
}

/** `paas-test/postgres:15` (bookworm) or `:13` (bullseye): Debian's postgresql behind the official image's entrypoint contract. */
export function ensurePostgresImage(major: 13 | 15 = 15): Promise<string> {
  return ensureDebootstrapImage({
    tag: major === 15 ? POSTGRES_IMAGE : POSTGRES_13_IMAGE,
    cacheName: `debian-postgres-${major}`,
    suite: major === 15 ? 'bookworm' : 'bullseye',
    include: [`postgresql-${major}`],
    changes: [
      `ENV PATH=/usr/lib/postgresql/${major}/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin`,
      'ENV LANG=C.UTF-8',
      'ENV PGDATA=/var/lib/postgresql/data',
      'EXPOSE 5432',
      'ENTRYPOINT ["docker-entrypoint.sh"]',
      'CMD ["postgres"]',
    ],
    async prepare(root) {
      // the package made a cluster of its own; the entrypoint makes one in PGDATA instead
      for (const d of [`var/lib/postgresql/${major}`, `etc/postgresql/${major}`])
        await fs.rm(path.join(root, d), { recursive: true, force: true });
      await writeEntrypoint(root, POSTGRES_ENTRYPOINT);
    },
  });
}

/** `paas-test/redis:7`: Debian's redis-server behind the official image's entrypoint contract. */
export function ensureRedisImage(): Promise<string> {
  return ensureDebootstrapImage({
    tag: REDIS_IMAGE,
    cacheName: 'debian-redis-7',
    include: ['redis-server'],
    changes: [PATH_ENV, 'WORKDIR /data', 'EXPOSE 6379', 'ENTRYPOINT ["docker-entrypoint.sh"]', 'CMD ["redis-server"]'],
    async prepare(root) {
      await fs.mkdir(path.join(root, 'data'), { recursive: true });
      await writeEntrypoint(root, REDIS_ENTRYPOINT);
    },
  });
}
