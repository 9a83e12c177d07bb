import { NOTIFICATION_EVENTS } from '../../src/contracts/notification-sink.js';
import type { NotificationInfo } from '../../src/notifications/notification-service.js';
import { table, writeJson } from '../../src/plugin-host/output.js';
import { definePlugin } from '../../src/plugin-host/plugin.js';

const events = (n: NotificationInfo) => (n.events.length === NOTIFICATION_EVENTS.length ? 'all' : n.events.join(','));

function lastDelivery(n: NotificationInfo): string {
  const l = n.last;
  if (!l) return 'never';
  const tries = l.attempts > 1 ? ` after ${l.attempts} attempts` : '';
  return l.ok ? `delivered ${l.event} (HTTP ${l.status}) ${l.at}` : `FAILED ${l.event}${tries}: ${l.error} ${l.at}`;
}

// Admin only (the default access): a notification is told about every app's events, and its URL
// is a place paas sends requests to.
export default definePlugin({
  name: 'notifications',
  commands: {
    'notifications:add': {
      summary:
        'Send signed JSON webhooks (Slack- and Discord-compatible) when a deploy fails or succeeds, an app crashes, a renewal or backup fails',
      usage: `notifications:add <name> <url> [--events ${NOTIFICATION_EVENTS.join(',')}]`,
      examples: [
        'paas notifications:add ops https://hooks.slack.com/services/T000/B000/XXXX',
        'paas notifications:add ci https://ci.example.com/paas-hook --events deploy.failed,app.crashed',
      ],
      app: 'none',
      minArgs: 2,
      maxArgs: 2,
      flags: { events: { type: 'string', description: 'comma-separated events to send (default: all)' } },
      run({ args, flags, api, stdout }) {
        const { info, secret } = api.notifications.add(args[0]!, args[1]!, typeof flags.events === 'string' ? flags.events : undefined);
        stdout.write(`Added notification ${info.name} -> ${info.url} (events: ${events(info)})\n`);
        stdout.write(`Signing secret (shown only now; receivers check X-Paas-Signature with it): ${secret}\n`);
        return 0;
      },
    },
    'notifications:list': {
      summary: 'List notifications: URL (tokens masked), events, and how the last delivery ended',
      usage: 'notifications:list [--json]',
      app: 'none',
      maxArgs: 0,
      run({ api, stdout, json }) {
        const rows = api.notifications.list();
        if (json) writeJson(stdout, rows);
        else if (!rows.length) stdout.write('No notifications (notifications:add NAME URL)\n');
        else
          stdout.write(
            table(
              ['NAME', 'URL', 'EVENTS', 'QUEUED', 'LAST DELIVERY'],
              rows.map((n) => [n.name, n.url, events(n), n.queued, lastDelivery(n)]),
            ),
          );
        return 0;
      },
    },
    'notifications:remove': {
      summary: 'Remove a notification (deliveries still waiting for it are dropped)',
      usage: 'notifications:remove <name>',
      app: 'none',
      minArgs: 1,
      maxArgs: 1,
      run({ args, api, stdout }) {
        api.notifications.remove(args[0]!);
        stdout.write(`Removed notification ${args[0]}\n`);
        return 0;
      },
    },
    'notifications:test': {
      summary: 'Send a signed test event now and report how the receiver answered',
      usage: 'notifications:test <name>',
      app: 'none',
      minArgs: 1,
      maxArgs: 1,
      async run({ args, api, stdout, signal }) {
        const r = await api.notifications.test(args[0]!, signal);
        stdout.write(`Delivered a test event to ${args[0]}: HTTP ${r.status} in ${r.ms} ms\n`);
        return 0;
      },
    },
  },
});
