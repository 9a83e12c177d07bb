import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { silentLogger } from '../../../src/log/logger.js';
import {
  type BackupSchedule,
  type LastRun,
  nextRun,
  PlatformBackupScheduler,
  readJson,
  scheduleFiles,
  writeSchedule,
} from '../../../src/platform-backup/platform-backup-schedule.js';

const setup = () => {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'paas-bksched-'));
  const to = path.join(dataDir, 'archives');
  fs.mkdirSync(to);
  return { dataDir, to, files: scheduleFiles(dataDir) };
};
const schedule = (to: string, keep: number | null): BackupSchedule => ({
  cron: '* * * * * *',
  to,
  keep,
  withImages: false,
  withAddons: false,
  encryptTo: null,
  offsite: null,
});

test('schedules are cron patterns in UTC; a bad one is refused with one line', () => {
  assert.equal(nextRun('0 3 * * *')?.getUTCHours(), 3);
  assert.throws(() => nextRun('61 * * * *'), /^AppError: invalid schedule "61 \* \* \* \*": .*minute.*\(e\.g\. "0 3 \* \* \*"\)$/);
  assert.throws(() => nextRun('every day'), /invalid schedule "every day"/);
});

test('a run records itself and keeps the newest archives; a failed one is recorded, never thrown', async () => {
  const { to, files } = setup();
  let n = 0;
  let fail = false;
  const scheduler = new PlatformBackupScheduler({
    files,
    log: silentLogger(),
    async run(s) {
      if (fail) throw new Error('disk full');
      const file = path.join(s.to, `paas-backup-2026-01-0${++n}T00-00-00-000Z.tar.gz`);
      fs.writeFileSync(file, 'x');
      return { file, offsite: null };
    },
  });
  for (let i = 0; i < 3; i++) assert.equal((await scheduler.runOnce(schedule(to, 2))).ok, true);
  assert.deepEqual(fs.readdirSync(to).sort(), [
    'paas-backup-2026-01-02T00-00-00-000Z.tar.gz',
    'paas-backup-2026-01-03T00-00-00-000Z.tar.gz',
  ]);
  assert.match(readJson<LastRun>(files.last)!.file!, /01-03/);
  fail = true;
  const last = await scheduler.runOnce(schedule(to, 2));
  assert.deepEqual({ ok: last.ok, error: last.error }, { ok: false, error: 'disk full' });
  assert.equal(readJson<LastRun>(files.last)!.ok, false);
  assert.equal(fs.readdirSync(to).length, 2, 'a failed run removes nothing');
});

test('the daemon side picks up a written schedule and runs it; removing it stops the runs', async () => {
  const { to, files } = setup();
  let runs = 0;
  const scheduler = new PlatformBackupScheduler({
    files,
    log: silentLogger(),
    pollMs: 100,
    async run() {
      runs++;
      return { file: 'f', offsite: null };
    },
  });
  scheduler.start();
  try {
    writeSchedule(files.schedule, schedule(to, null));
    assert.equal(fs.statSync(files.schedule).mode & 0o777, 0o600);
    const deadline = Date.now() + 5000;
    while (runs < 1 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    assert.ok(runs >= 1, 'ran within a few seconds');
    writeSchedule(files.schedule, null);
    await new Promise((r) => setTimeout(r, 300));
    const after = runs;
    await new Promise((r) => setTimeout(r, 1500));
    assert.equal(runs, after, 'no run after the schedule was removed');
  } finally {
    scheduler.stop();
  }
});
