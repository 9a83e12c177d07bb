import fs from 'node:fs';
import path from 'node:path';
import type { Logger } from '../log/logger.js';
import { decodeRecord, encodeRecord, type LogRecord, timeKey } from './log-record.js';
import { type LogRetention, segmentBytes } from './log-retention.js';

/** Where a stored line sits: segment number, then byte offset. A follower prints live lines at or past the end it read. */
export interface LogPosition {
  seq: number;
  offset: number;
}

export function comparePositions(a: LogPosition, b: LogPosition): number {
  return a.seq - b.seq || a.offset - b.offset;
}

/** The last line stored of one container: its time, and how many lines carried exactly that time. */
export interface LogCursor {
  t: string;
  n: number;
}

export interface LogQuery {
  /** the last N matching lines */
  lines: number;
  /** only lines at or after this time (ms since the epoch) */
  sinceMs?: number | null;
  release?: number | null;
  process?: string | null;
}

export interface StoreStats {
  bytes: number;
  segments: number;
  /** lines that could not be written (disk full, I/O error) since the server started */
  dropped: number;
}

interface Writer {
  fd: number;
  seq: number;
  size: number;
  /** the file may end in a partial line: the next write starts on a fresh line */
  torn: boolean;
}

const SEGMENT_RE = /^(\d{12})\.log$/;
const CURSORS = 'cursors.json';
const segmentName = (seq: number) => `${String(seq).padStart(12, '0')}.log`;

/**
 * Every app's kept log: `<root>/<app>/NNNNNNNNNNNN.log` segment files of JSON lines, appended to
 * only (a crash leaves at most a torn last line, skipped on read and fenced off by a newline
 * before the next write). A segment past its size starts the next one, and then the oldest go
 * until the app is under its size cap; segments last written before the age cap go too.
 * Writes are synchronous and small (a batch of lines per Docker chunk). A failed write
 * (ENOSPC) drops its lines and counts them; nothing throws to the caller.
 */
export class AppLogStore {
  private readonly writers = new Map<string, Writer>();
  private readonly dropped = new Map<string, number>();
  /** the collector's cursors of an app, saved beside the segments at each rotation */
  cursorSource: (app: string) => Record<string, LogCursor> = () => ({});

  constructor(
    private readonly root: string,
    private readonly retention: (app: string) => LogRetention,
    private readonly log: Logger,
    private readonly now: () => number = Date.now,
  ) {}

  dir(app: string): string {
    return path.join(this.root, app);
  }

  /** Appends lines; returns where they start (for live followers). Never throws. */
  append(app: string, records: LogRecord[]): LogPosition {
    if (!records.length) return this.end(app);
    let w: Writer | null = null;
    try {
      w = this.writer(app);
      if (w.size >= segmentBytes(this.retention(app).maxBytes)) w = this.rotate(app, w);
    } catch (err) {
      this.drop(app, records.length, err);
      return w ? { seq: w.seq, offset: w.size } : { seq: 0, offset: 0 };
    }
    const at = { seq: w.seq, offset: w.size };
    const text = (w.torn ? '\n' : '') + records.map(encodeRecord).join('');
    const buf = Buffer.from(text);
    let done = 0;
    try {
      while (done < buf.length) done += fs.writeSync(w.fd, buf, done, buf.length - done);
      w.torn = false;
    } catch (err) {
      w.torn = true;
      // whole lines written before the failure are kept; the rest are dropped
      let lost = 0;
      for (let i = done; i < buf.length; i++) if (buf[i] === 10) lost++;
      this.drop(app, lost, err);
    }
    w.size += done;
    return at;
  }

  /** The end of what is stored now: lines appended later sit at or after it. */
  end(app: string): LogPosition {
    const w = this.writers.get(app);
    if (w) return { seq: w.seq, offset: w.size };
    const segs = this.segments(app);
    const last = segs.at(-1);
    if (!last) return { seq: 0, offset: 0 };
    return { seq: last.seq, offset: fileSize(path.join(this.dir(app), segmentName(last.seq))) };
  }

  /** The last `q.lines` stored lines matching the filters, oldest first, read up to `end`. */
  async read(app: string, q: LogQuery, end: LogPosition = this.end(app)): Promise<LogRecord[]> {
    const segs = this.segments(app).filter((s) => s.seq <= end.seq);
    const sinceKey = q.sinceMs != null ? timeKey(new Date(q.sinceMs).toISOString()) : null;
    const picked: LogRecord[][] = [];
    let count = 0;
    for (let k = segs.length - 1; k >= 0 && count < q.lines; k--) {
      const file = path.join(this.dir(app), segmentName(segs[k]!.seq));
      let text: string;
      try {
        const buf = await fs.promises.readFile(file);
        text = (segs[k]!.seq === end.seq ? buf.subarray(0, end.offset) : buf).toString('utf8');
      } catch {
        continue; // removed by retention meanwhile
      }
      const mine: LogRecord[] = [];
      for (const line of text.split('\n')) {
        const r = decodeRecord(line);
        if (!r) continue;
        if (q.release != null && r.r !== q.release) continue;
        if (q.process != null && r.p !== q.process) continue;
        if (sinceKey !== null && timeKey(r.t) < sinceKey) continue;
        mine.push(r);
      }
      const take = mine.slice(Math.max(0, mine.length - (q.lines - count)));
      picked.unshift(take);
      count += take.length;
      // an older segment was last written before this one began: nothing in it is recent enough
      if (sinceKey !== null && segs[k]!.mtimeMs < (q.sinceMs ?? 0)) break;
    }
    return picked.flat();
  }

  /**
   * Where each container's stored lines end, for resuming its Docker log stream: the cursors
   * saved at the last rotation, advanced through the newest segment.
   */
  cursors(app: string): Map<string, LogCursor> {
    const out = new Map<string, LogCursor>();
    try {
      const saved = JSON.parse(fs.readFileSync(path.join(this.dir(app), CURSORS), 'utf8')) as Record<string, LogCursor>;
      for (const [c, v] of Object.entries(saved)) if (typeof v?.t === 'string' && Number.isInteger(v.n)) out.set(c, v);
    } catch {
      // none saved yet
    }
    const last = this.segments(app).at(-1);
    if (!last) return out;
    let text = '';
    try {
      text = fs.readFileSync(path.join(this.dir(app), segmentName(last.seq)), 'utf8');
    } catch {
      return out;
    }
    for (const line of text.split('\n')) {
      const r = decodeRecord(line);
      if (!r) continue;
      const cur = out.get(r.c);
      if (cur && cur.t === r.t) cur.n++;
      else if (!cur || timeKey(r.t) > timeKey(cur.t)) out.set(r.c, { t: r.t, n: 1 });
    }
    return out;
  }

  /** Drops segments past the app's caps (never the one being written); returns how many went. */
  enforce(app: string): number {
    const { maxBytes, maxAgeMs } = this.retention(app);
    const current = this.writers.get(app)?.seq ?? this.segments(app).at(-1)?.seq;
    const segs = this.segments(app);
    let total = segs.reduce((n, s) => n + s.size, 0);
    const cutoff = this.now() - maxAgeMs;
    let removed = 0;
    for (const s of segs) {
      if (s.seq === current) break;
      if (total <= maxBytes && s.mtimeMs >= cutoff) continue;
      try {
        fs.rmSync(path.join(this.dir(app), segmentName(s.seq)), { force: true });
        total -= s.size;
        removed++;
      } catch (err) {
        this.log.warn({ app, seq: s.seq, err: (err as Error).message }, 'log segment removal failed');
      }
    }
    if (removed) this.log.info({ app, removed }, 'old log segments removed');
    return removed;
  }

  /** Every app with kept logs. */
  apps(): string[] {
    try {
      return fs.readdirSync(this.root, { withFileTypes: true }).flatMap((d) => (d.isDirectory() ? [d.name] : []));
    } catch {
      return [];
    }
  }

  stats(app: string): StoreStats {
    const segs = this.segments(app);
    return { bytes: segs.reduce((n, s) => n + s.size, 0), segments: segs.length, dropped: this.dropped.get(app) ?? 0 };
  }

  /** Lets go of the app's open segment (its last container stopped, or the app is gone). */
  close(app: string): void {
    const w = this.writers.get(app);
    if (!w) return;
    this.writers.delete(app);
    try {
      fs.closeSync(w.fd);
    } catch {
      // already closed
    }
  }

  closeAll(): void {
    for (const app of [...this.writers.keys()]) this.close(app);
  }

  private writer(app: string): Writer {
    const have = this.writers.get(app);
    if (have) return have;
    fs.mkdirSync(this.dir(app), { recursive: true, mode: 0o700 });
    const seq = this.segments(app).at(-1)?.seq ?? 1;
    const w = this.open(app, seq);
    this.writers.set(app, w);
    return w;
  }

  private open(app: string, seq: number): Writer {
    const fd = fs.openSync(path.join(this.dir(app), segmentName(seq)), 'a+', 0o600);
    const size = fs.fstatSync(fd).size;
    let torn = false;
    if (size > 0) {
      const last = Buffer.alloc(1);
      fs.readSync(fd, last, 0, 1, size - 1);
      torn = last[0] !== 10;
    }
    return { fd, seq, size, torn };
  }

  private rotate(app: string, w: Writer): Writer {
    const next = this.open(app, w.seq + 1);
    fs.closeSync(w.fd);
    this.writers.set(app, next);
    this.saveCursors(app);
    this.enforce(app);
    return next;
  }

  private saveCursors(app: string): void {
    const file = path.join(this.dir(app), CURSORS);
    try {
      fs.writeFileSync(`${file}.tmp`, JSON.stringify(this.cursorSource(app)), { mode: 0o600 });
      fs.renameSync(`${file}.tmp`, file);
    } catch (err) {
      this.log.warn({ app, err: (err as Error).message }, 'saving log cursors failed');
    }
  }

  private drop(app: string, lines: number, err: unknown): void {
    const before = this.dropped.get(app) ?? 0;
    this.dropped.set(app, before + lines);
    // one warning per 1,000 lost lines at most, so a full disk does not flood the server log
    if (Math.floor(before / 1000) !== Math.floor((before + lines) / 1000) || before === 0)
      this.log.warn({ app, dropped: before + lines, err: (err as Error).message }, 'app log lines dropped');
  }

  private segments(app: string): Array<{ seq: number; size: number; mtimeMs: number }> {
    let names: string[];
    try {
      names = fs.readdirSync(this.dir(app));
    } catch {
      return [];
    }
    const out: Array<{ seq: number; size: number; mtimeMs: number }> = [];
    for (const n of names) {
      const m = SEGMENT_RE.exec(n);
      if (!m) continue;
      try {
        const st = fs.statSync(path.join(this.dir(app), n));
        out.push({ seq: Number(m[1]), size: st.size, mtimeMs: st.mtimeMs });
      } catch {
        // removed meanwhile
      }
    }
    return out.sort((a, b) => a.seq - b.seq);
  }
}

function fileSize(file: string): number {
  try {
    return fs.statSync(file).size;
  } catch {
    return 0;
  }
}
