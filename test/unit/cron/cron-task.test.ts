// app.json cron entries as Dokku defines them: Dokku's stable task ids, the schedules paas
// accepts (5 fields, nicknames, 6 with seconds), commands run as words with shell syntax refused,
// policies, maintenance, time zones; each bad entry fails with one line naming it.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { commandWords, cronTaskId, parseCronEntries, parseSchedule, withIds } from '../../../src/cron/cron-task.js';
import { parseAppJson } from '../../../src/deploy/app-json.js';

/** base36 by long division over the bytes, written independently of the BigInt code under test */
function base36(text: string): string {
  let digits = [...Buffer.from(text, 'utf8')];
  let out = '';
  while (digits.some((d) => d > 0)) {
    let rem = 0;
    const next: number[] = [];
    for (const d of digits) {
      const acc = rem * 256 + d;
      next.push(Math.floor(acc / 36));
      rem = acc % 36;
    }
    out = '0123456789abcdefghijklmnopqrstuvwxyz'[rem] + out;
    digits = next;
  }
  return out;
}

const bad = (raw: unknown, pattern: RegExp) =>
  assert.throws(
    () => parseCronEntries(raw),
    (e: { code: string; message: string }) => e.code === 'PAAS_ERR_CRON_APP_JSON' && pattern.test(e.message) && !e.message.includes('\n'),
  );

describe('cron task ids', () => {
  test("are Dokku's: app===command===schedule in lower-case base 36, stable and distinct", () => {
    const id = cronTaskId('node-js-app', 'npm run send-email', '@daily');
    assert.equal(id, base36('node-js-app===npm run send-email===@daily'));
    assert.match(id, /^[0-9a-z]+$/);
    assert.equal(cronTaskId('node-js-app', 'npm run send-email', '@daily'), id);
    assert.notEqual(cronTaskId('other', 'npm run send-email', '@daily'), id);
    assert.notEqual(cronTaskId('node-js-app', 'npm run send-email', '@hourly'), id);
    assert.notEqual(cronTaskId('node-js-app', 'npm run other', '@daily'), id);
    const [t] = withIds('node-js-app', parseCronEntries([{ command: 'npm run send-email', schedule: '@daily' }]));
    assert.equal(t!.id, id);
  });
});

describe('parseCronEntries', () => {
  test('absent is none; defaults are allow, not in maintenance, UTC', () => {
    assert.deepEqual(parseCronEntries(undefined), []);
    assert.deepEqual(parseCronEntries([{ command: 'echo hi', schedule: '0 1 * * *' }]), [
      { command: 'echo hi', schedule: '0 1 * * *', concurrencyPolicy: 'allow', maintenance: false, timezone: 'UTC' },
    ]);
    const [e] = parseCronEntries([
      {
        command: "sh -c 'date && echo done | tee /tmp/x'",
        schedule: '*/5 * * * * *',
        concurrency_policy: 'forbid',
        maintenance: true,
        timezone: 'Europe/Paris',
      },
    ]);
    assert.deepEqual([e!.concurrencyPolicy, e!.maintenance, e!.timezone], ['forbid', true, 'Europe/Paris']);
  });

  test('accepts 5 fields, 6 with seconds, and the nicknames except @reboot', () => {
    for (const schedule of [
      '*/15 * * * *',
      '0 3 * * 1-5',
      '*/2 * * * * *',
      '@hourly',
      '@daily',
      '@weekly',
      '@monthly',
      '@yearly',
      '@midnight',
    ])
      assert.equal(parseCronEntries([{ command: 'true', schedule }]).length, 1, schedule);
  });

  test('refuses bad schedules with one line naming the entry', () => {
    bad([{ command: 'true', schedule: '61 * * * *' }], /^app\.json: cron\[0\]\.schedule "61 \* \* \* \*" is invalid: /);
    bad([{ command: 'true', schedule: 'every day' }], /cron\[0\]\.schedule "every day" is not a cron schedule/);
    bad([{ command: 'true', schedule: '* * * *' }], /is not a cron schedule/);
    bad([{ command: 'true', schedule: '* * * * * * *' }], /is not a cron schedule/);
    bad([{ command: 'true', schedule: '@reboot' }], /is not a cron schedule/);
    bad([{ command: 'true', schedule: '0 0 31 2 *' }], /never runs/);
    bad([{ command: 'true', schedule: '' }], /cron\[0\]\.schedule must be a non-empty string/);
    bad([{ command: 'true', schedule: 5 }], /schedule must be a non-empty string/);
  });

  test('refuses shell syntax outside quotes: the command runs with no shell', () => {
    for (const command of [
      'date && echo hi',
      'a || b',
      'ls | wc -l',
      'echo a; echo b',
      'echo a;rm x',
      'echo hi > /tmp/f',
      'sleep 1 &',
      'echo $(id)',
      'cat < f',
    ])
      bad([{ command, schedule: '@daily' }], /cron\[0\]\.command has '.+' outside quotes; cron commands run with no shell: write sh -c/);
    bad([{ command: 'echo hi # note', schedule: '@daily' }], /a '#' comment outside quotes/);
    bad([{ command: '   ', schedule: '@daily' }], /command must be a non-empty string/);
  });

  test('refuses a bad policy, maintenance, time zone, key, shape or a repeated task', () => {
    bad([{ command: 'true', schedule: '@daily', concurrency_policy: 'queue' }], /concurrency_policy must be one of allow, forbid, replace/);
    bad([{ command: 'true', schedule: '@daily', maintenance: 'yes' }], /maintenance must be true or false/);
    bad([{ command: 'true', schedule: '@daily', timezone: 'Mars/Base' }], /timezone "Mars\/Base" is not a known time zone/);
    bad([{ command: 'true', schedule: '@daily', every: 1 }], /unknown key "every"/);
    bad({ command: 'true' }, /cron must be a list/);
    bad(['true'], /cron\[0\] must be an object/);
    bad(
      [
        { command: 'true', schedule: '@daily' },
        { command: 'true', schedule: '@daily' },
      ],
      /cron\[1\] repeats an earlier task/,
    );
  });

  test('app.json carries the checked cron entries; a bad one fails the whole file', () => {
    assert.equal(parseAppJson(JSON.stringify({ cron: [{ command: 'true', schedule: '@hourly' }] })).cron.length, 1);
    assert.deepEqual(parseAppJson('{}').cron, []);
    assert.throws(() => parseAppJson(JSON.stringify({ cron: [{ command: 'a && b', schedule: '@hourly' }] })), {
      code: 'PAAS_ERR_CRON_APP_JSON',
    });
  });
});

describe('commandWords and parseSchedule', () => {
  test('quotes group words, variables stay literal', () => {
    assert.deepEqual(commandWords(`sh -c 'echo "$HOME" && date'`), ['sh', '-c', 'echo "$HOME" && date']);
    assert.deepEqual(commandWords('echo $HOME "a b"'), ['echo', '$HOME', 'a b']);
  });

  test('UTC unless the task says otherwise', () => {
    const from = new Date('2026-06-01T12:00:00Z');
    assert.equal(parseSchedule('0 3 * * *').nextRun(from)?.toISOString(), '2026-06-02T03:00:00.000Z');
    // 03:00 in Paris in June (UTC+2) is 01:00 UTC
    assert.equal(parseSchedule('0 3 * * *', 'Europe/Paris').nextRun(from)?.toISOString(), '2026-06-02T01:00:00.000Z');
  });
});
