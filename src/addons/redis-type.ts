import type { AddonType } from './addon-type.js';

/** Redis: `--requirepass` as the official image takes it, RDB snapshots (no AOF: a restored RDB is what loads). */
export const redisType: AddonType = {
  name: 'redis',
  clientName: 'redis-cli',
  defaultImage: 'redis:7.4.2',
  imageEnv: 'PAAS_IMAGE_REDIS',
  defaultUser: 'default',
  port: 6379,
  volumePath: '/data',
  // Redis has ACL users (6+) but no per-user keyspaces: every linked app shares the one password
  appLogins: null,
  urlVar: 'REDIS_URL',
  // redis-cli reads the password from REDISCLI_AUTH (never on a command line)
  env: (c) => ({ REDISCLI_AUTH: c.password }),
  command: (c) => [
    'redis-server',
    '--requirepass',
    c.password,
    '--appendonly',
    'no',
    '--save',
    '60 1',
    '--save',
    '300 10',
    '--dir',
    '/data',
  ],
  url: (c, host) => `redis://:${encodeURIComponent(c.password)}@${host}:6379`,
  probe: ['sh', '-c', 'redis-cli -h 127.0.0.1 ping | grep -q PONG'],
  version: ['sh', '-c', 'redis-server --version'],
  connect: ['redis-cli', '-h', '127.0.0.1'],
  dump: ['redis-cli', '-h', '127.0.0.1', '--rdb', '-'],
  backup: { ext: 'rdb.gz', gzip: true },
  verify: [
    'sh',
    '-c',
    'out=$(redis-check-rdb "$1" 2>&1) || { printf "%s\\n" "$out" | tail -n 3 >&2; exit 1; }; printf "%s\\n" "$out" | grep -o "[0-9]* keys read" || echo "0 keys read"',
    'sh',
    '{file}',
  ],
  restore: { kind: 'file', path: '/data/dump.rdb' },
  // more replicas than any server has: writes get NOREPLICAS (the `--rdb` dump itself counts as one)
  freezeWrites: ['redis-cli', '-h', '127.0.0.1', 'CONFIG', 'SET', 'min-replicas-to-write', '1000'],
  thawWrites: ['redis-cli', '-h', '127.0.0.1', 'CONFIG', 'SET', 'min-replicas-to-write', '0'],
  size: null,
};
