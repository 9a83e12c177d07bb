// AddonScheduler on a fake clock (node:test's mocked Date and setTimeout drive croner): schedules
// stored with the add-on, picked up at start, run as scheduled backups followed by a prune, never
// overlapping, removed with `set null` and `stop`; an invalid cron is refused and nothing stored.
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, mock, test } from 'node:test';
import { AddonScheduler } from '../../../src/addons/addon-scheduler.js';
import type { AddonType } from '../../../src/addons/addon-type.js';
import { postgresType } from '../../../src/addons/postgres-type.js';
import { redisType } from '../../../src/addons/redis-type.js';
import { silentLogger } from '../../../src/log/logger.js';
import { addonSetup, storedAddon } from '../fakes/addon-fakes.js';

const NOW = Date.parse('2026-12-06T10:05:00.000Z');
const MINUTE = 60_000;
const started: AddonScheduler[] = [];

/** A scheduler over a stored postgres add-on `db`; `data` records each backup and prune it is asked for. */
function setup() {
  const s = addonSetup(postgresType);
  storedAddon(s, postgresType, 'db');
  const ran: string[] = [];
  const data = {
    /** what the next backups do (default: done at once) */
    backup: async (type: AddonType, name: string, _signal: AbortSignal, trigger?: string) => {
      ran.push(`backup ${type.name}:${name} ${trigger}`);
      await data.next();
      return {} as never;
    },
    next: async () => {},
    prune: (type: AddonType, name: string, keep: number) => {
      ran.push(`prune ${type.name}:${name} ${keep}`);
      return ['old'];
    },
  };
  const scheduler = new AddonScheduler({ addons: s.state.addons, service: s.service, data, log: silentLogger() });
  // croner's job names are global to the process: every test's jobs end with it
  started.push(scheduler);
  return { ...s, ran, backups: data, scheduler };
}

/** Moves the fake clock a second at a time, letting the jobs' promises settle after each step. */
async function advance(ms: number) {
  for (let left = ms; left > 0; left -= 1000) {
    mock.timers.tick(Math.min(1000, left));
    for (let i = 0; i < 5; i++) await Promise.resolve();
  }
}

describe('AddonScheduler', () => {
  beforeEach(() => mock.timers.enable({ apis: ['setTimeout', 'Date'], now: NOW }));
  afterEach(() => {
    for (const sch of started.splice(0)) sch.stop();
    mock.timers.reset();
  });

  test('set stores the schedule and keep and returns the next run; get reads them back', () => {
    const s = setup();
    assert.deepEqual(s.scheduler.set(postgresType, 'db', '*/15 * * * *', 7), { next: '2026-12-06T10:15:00.000Z' });
    const row = s.state.addons.get('postgres', 'db')!;
    assert.deepEqual([row.schedule, row.keep], ['*/15 * * * *', 7]);
    assert.deepEqual(s.scheduler.get(postgresType, 'db'), { cron: '*/15 * * * *', keep: 7, next: '2026-12-06T10:15:00.000Z' });
  });

  test('an invalid schedule or an unknown add-on is refused and nothing is stored', () => {
    const s = setup();
    for (const cron of ['every day', '61 * * * *', '* * *'])
      assert.throws(
        () => s.scheduler.set(postgresType, 'db', cron, 3),
        (e: { code: string; message: string }) =>
          e.code === 'PAAS_ERR_ADDON_SCHEDULE' &&
          e.message.startsWith(`invalid schedule "${cron}": `) &&
          e.message.endsWith(' (e.g. "0 3 * * *")'),
      );
    assert.throws(() => s.scheduler.set(postgresType, 'nope', '0 3 * * *', null), { code: 'PAAS_ERR_ADDON_NOT_FOUND' });
    assert.throws(() => s.scheduler.get(postgresType, 'nope'), { code: 'PAAS_ERR_ADDON_NOT_FOUND' });
    assert.deepEqual([s.state.addons.get('postgres', 'db')!.schedule, s.scheduler.get(postgresType, 'db')], [null, null]);
  });

  test('once started, a stored schedule runs a scheduled backup at its time, then prunes to keep', async () => {
    const s = setup();
    storedAddon(s, redisType, 'cache');
    s.state.addons.setSchedule('postgres', 'db', '*/15 * * * *', 2);
    s.state.addons.setSchedule('redis', 'cache', '0 * * * *', null);
    s.scheduler.start();
    await advance(9 * MINUTE);
    assert.deepEqual(s.ran, []);
    await advance(1 * MINUTE + 1000);
    assert.deepEqual(s.ran, ['backup postgres:db scheduled', 'prune postgres:db 2']);
    await advance(45 * MINUTE);
    // 10:30 and 10:45, then 11:00 for both (in either order)
    assert.deepEqual(s.ran.slice(2, 6), [
      'backup postgres:db scheduled',
      'prune postgres:db 2',
      'backup postgres:db scheduled',
      'prune postgres:db 2',
    ]);
    assert.deepEqual(s.ran.slice(6).sort(), ['backup postgres:db scheduled', 'backup redis:cache scheduled', 'prune postgres:db 2']);
  });

  test('a schedule set before start is only stored; set on a running scheduler applies at once', async () => {
    const s = setup();
    s.scheduler.set(postgresType, 'db', '*/15 * * * *', null);
    await advance(20 * MINUTE);
    assert.deepEqual(s.ran, []);
    s.scheduler.start();
    s.scheduler.set(postgresType, 'db', '*/5 * * * *', null);
    await advance(5 * MINUTE);
    assert.deepEqual(s.ran, ['backup postgres:db scheduled']);
  });

  test('set null removes the schedule and its job; stop ends every job', async () => {
    const s = setup();
    storedAddon(s, redisType, 'cache');
    s.scheduler.start();
    s.scheduler.set(postgresType, 'db', '*/5 * * * *', null);
    s.scheduler.set(redisType, 'cache', '*/5 * * * *', null);
    assert.deepEqual(s.scheduler.set(postgresType, 'db', null, null), { next: null });
    assert.equal(s.state.addons.get('postgres', 'db')!.schedule, null);
    assert.equal(s.scheduler.get(postgresType, 'db'), null);
    await advance(5 * MINUTE);
    assert.deepEqual(s.ran, ['backup redis:cache scheduled']);
    s.scheduler.stop();
    await advance(30 * MINUTE);
    assert.equal(s.ran.length, 1);
  });

  test('a run never overlaps the previous one, and a failed backup does not stop the schedule', async () => {
    const s = setup();
    let finish!: () => void;
    s.backups.next = () => new Promise<void>((r) => (finish = r));
    s.scheduler.start();
    s.scheduler.set(postgresType, 'db', '*/5 * * * *', 1);
    // 10:10 starts and hangs; 10:15 and 10:20 find it running
    await advance(15 * MINUTE + 30_000);
    assert.deepEqual(s.ran, ['backup postgres:db scheduled']);
    finish();
    s.backups.next = async () => {
      throw new Error('disk full');
    };
    await advance(10 * MINUTE);
    // the hung run ends with its prune; the failing runs after it (10:25 and 10:30, and any run croner
    // catches up for the skipped ones) are each tried, and none prunes
    assert.deepEqual(s.ran.slice(0, 2), ['backup postgres:db scheduled', 'prune postgres:db 1']);
    assert.ok(s.ran.length >= 4, s.ran.join(', '));
    assert.deepEqual(new Set(s.ran.slice(2)), new Set(['backup postgres:db scheduled']));
  });
});
