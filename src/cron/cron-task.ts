import { Cron } from 'croner';
import { parse } from 'shell-quote';
import { CronErrors } from './cron-errors.js';

export const CONCURRENCY_POLICIES = ['allow', 'forbid', 'replace'] as const;
export type ConcurrencyPolicy = (typeof CONCURRENCY_POLICIES)[number];

/** One app.json `cron` entry, checked. */
export interface CronEntry {
  command: string;
  schedule: string;
  concurrencyPolicy: ConcurrencyPolicy;
  /** Dokku's `maintenance`: listed, never scheduled (cron:run still runs it) */
  maintenance: boolean;
  /** IANA time zone the schedule is read in (paas extension; default UTC) */
  timezone: string;
}

/** An entry with its stable id, as Dokku computes it (cronTaskId). */
export interface CronTask extends CronEntry {
  id: string;
}

/** The entries of one app with their ids. */
export function withIds(app: string, entries: readonly CronEntry[]): CronTask[] {
  return entries.map((e) => ({ id: cronTaskId(app, e.command, e.schedule), ...e }));
}

/** Dokku's task id: the bytes of `app===command===schedule` read as one big number, in lower-case base 36 (go-base36's EncodeToStringLc). */
export function cronTaskId(app: string, command: string, schedule: string): string {
  const bytes = Buffer.from(`${app}===${command}===${schedule}`, 'utf8');
  let zeros = 0;
  while (zeros < bytes.length && bytes[zeros] === 0) zeros++;
  const n = bytes.length > zeros ? BigInt(`0x${bytes.subarray(zeros).toString('hex')}`).toString(36) : '';
  return '0'.repeat(zeros) + n;
}

const NICKNAMES = ['@yearly', '@annually', '@monthly', '@weekly', '@daily', '@midnight', '@hourly'];

/**
 * A croner job for a schedule, paused (the caller resumes or asks it for runs). Accepts what
 * Dokku accepts (5 fields, @hourly and the other nicknames except @reboot) plus 6 fields with
 * seconds first; throws CronErrors.appJson with the reason otherwise.
 */
export function parseSchedule(schedule: string, timezone = 'UTC', where = 'schedule'): Cron {
  const s = schedule.trim();
  const fields = s.split(/\s+/);
  if (s.startsWith('@') ? !NICKNAMES.includes(s) : fields.length !== 5 && fields.length !== 6)
    throw CronErrors.appJson(
      `app.json: ${where} "${schedule.slice(0, 80)}" is not a cron schedule (5 fields "m h dom mon dow", 6 with seconds first, or ${NICKNAMES.join(', ')})`,
    );
  let job: Cron;
  try {
    job = new Cron(s, { paused: true, timezone });
  } catch (e) {
    const why = (e as Error).message.replace(/^Cron\w*: /, '').split('.')[0];
    throw CronErrors.appJson(`app.json: ${where} "${schedule.slice(0, 80)}" is invalid: ${why}`);
  }
  if (!job.nextRun()) throw CronErrors.appJson(`app.json: ${where} "${schedule.slice(0, 80)}" never runs`);
  return job;
}

/**
 * The command as words, run with no shell (as Dokku hands it to `docker run`): quotes group
 * words, `$VAR` stays literal. Shell syntax outside quotes (`&&`, `||`, `|`, `;`, `>`, `<`, `&`,
 * `$(...)`, `#`) is refused, since nothing would interpret it: write `sh -c '...'` when a shell is wanted.
 */
export function commandWords(command: string, where = 'command'): string[] {
  const out: string[] = [];
  let tokens: ReturnType<typeof parse>;
  try {
    tokens = parse(command, (key) => `$${key}`);
  } catch (e) {
    throw CronErrors.appJson(`app.json: ${where} cannot be split into words: ${(e as Error).message}`);
  }
  for (const t of tokens) {
    if (typeof t === 'string') out.push(t);
    else if ('op' in t && t.op === 'glob') out.push((t as { pattern: string }).pattern);
    else {
      const what = 'op' in t ? `'${t.op}'` : "a '#' comment";
      throw CronErrors.appJson(
        `app.json: ${where} has ${what} outside quotes; cron commands run with no shell: write sh -c '...' to use one`,
      );
    }
  }
  if (!out.length) throw CronErrors.appJson(`app.json: ${where} is empty`);
  return out;
}

const KEYS = new Set(['command', 'schedule', 'concurrency_policy', 'maintenance', 'timezone']);

/** app.json `cron` (absent: none), every entry checked; the push fails on the first bad one. */
export function parseCronEntries(raw: unknown): CronEntry[] {
  if (raw === undefined || raw === null) return [];
  if (!Array.isArray(raw)) throw CronErrors.appJson('app.json: cron must be a list of {"command", "schedule"} entries');
  const seen = new Set<string>();
  return raw.map((e: unknown, i) => {
    const where = `cron[${i}]`;
    if (typeof e !== 'object' || e === null || Array.isArray(e))
      throw CronErrors.appJson(`app.json: ${where} must be an object with "command" and "schedule"`);
    const entry = e as Record<string, unknown>;
    const unknown = Object.keys(entry).find((k) => !KEYS.has(k));
    if (unknown) throw CronErrors.appJson(`app.json: ${where} has an unknown key "${unknown.slice(0, 40)}"`);
    const { command, schedule } = entry;
    if (typeof command !== 'string' || !command.trim()) throw CronErrors.appJson(`app.json: ${where}.command must be a non-empty string`);
    if (typeof schedule !== 'string' || !schedule.trim())
      throw CronErrors.appJson(`app.json: ${where}.schedule must be a non-empty string`);
    const policy = entry.concurrency_policy ?? 'allow';
    if (!CONCURRENCY_POLICIES.includes(policy as ConcurrencyPolicy))
      throw CronErrors.appJson(`app.json: ${where}.concurrency_policy must be one of ${CONCURRENCY_POLICIES.join(', ')}`);
    const maintenance = entry.maintenance ?? false;
    if (typeof maintenance !== 'boolean') throw CronErrors.appJson(`app.json: ${where}.maintenance must be true or false`);
    const timezone = entry.timezone ?? 'UTC';
    if (typeof timezone !== 'string') throw CronErrors.appJson(`app.json: ${where}.timezone must be an IANA time zone name`);
    if (!validZone(timezone)) throw CronErrors.appJson(`app.json: ${where}.timezone "${timezone.slice(0, 60)}" is not a known time zone`);
    parseSchedule(schedule, timezone, `${where}.schedule`);
    commandWords(command, `${where}.command`);
    const key = `${command}\n${schedule}`;
    if (seen.has(key)) throw CronErrors.appJson(`app.json: ${where} repeats an earlier task (same command and schedule)`);
    seen.add(key);
    return { command, schedule, concurrencyPolicy: policy as ConcurrencyPolicy, maintenance, timezone };
  });
}

function validZone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}
