/**
 * The commands the dashboard may run through the CommandHost: reads (with --json) and the
 * everyday actions, none interactive. Anything else is for the CLI. The access rules are not
 * here: the CommandHost and the services check every command as they do over SSH.
 */
export const DASHBOARD_COMMANDS: ReadonlySet<string> = new Set([
  'apps:list',
  'apps:info',
  'ps:report',
  'ps:top',
  'apps:scale',
  'ps:restart',
  'ps:start',
  'ps:stop',
  'ps:maintenance',
  'ps:pause',
  'ps:resume',
  'releases',
  'releases:rollback',
  'releases:log',
  'config:show',
  'config:set',
  'config:unset',
  'domains:list',
  'certs:report',
  'letsencrypt:list',
  'logs',
  'builder:report',
  'nodes:list',
  'postgres:list',
  'redis:list',
  'postgres:backups',
  'redis:backups',
  'cron:list',
  'metrics:report',
  'proxy:report',
]);
