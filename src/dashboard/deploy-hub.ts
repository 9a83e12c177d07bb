import { Writable } from 'node:stream';
import { LineSplitter } from './command-runner.js';

export type DeployEvent =
  | { type: 'line'; text: string }
  | { type: 'done'; ok: true; release: string | null }
  | { type: 'done'; ok: false; error: string }
  | { type: 'idle' };

type Listener = (e: DeployEvent) => void;

/** the most lines of one push a late subscriber is replayed (a longer log keeps its last ones) */
const MAX_LINES = 5000;

interface Running {
  lines: string[];
  dropped: number;
}

/**
 * Each app's running push, as lines: the push's output is teed in (from any terminal), a
 * subscriber gets the lines so far and then the live ones, and `done` when it ends. No push, no
 * subscriber: nothing kept; a push with no subscriber keeps only its bounded line buffer.
 */
export class DeployHub {
  private readonly running = new Map<string, Running>();
  private readonly listeners = new Map<string, Set<Listener>>();

  /** Runs a push with its output written to `out` and to the hub. */
  async tee(
    app: string,
    out: Writable,
    push: (out: Writable) => Promise<number>,
    outcome: (code: number, lastLine: string) => DeployEvent,
  ): Promise<number> {
    this.begin(app);
    let last = '';
    const splitter = new LineSplitter((line) => {
      if (line.trim() !== '') last = line;
      this.line(app, line);
    });
    const both = new Writable({
      write(chunk: Buffer, enc, cb) {
        splitter.write(chunk);
        out.write(chunk, enc, cb);
      },
    });
    // a client gone mid-push fails its writes: the push goes on, its output only to the hub
    both.on('error', () => {});
    let code = 1;
    try {
      code = await push(both);
      return code;
    } finally {
      // `both` hands `out` one chunk at a time: the push's last lines may still be queued here, and
      // the caller closes the session once this returns, so they are passed on first
      await new Promise<void>((resolve) => {
        both.once('error', () => resolve());
        both.end(() => resolve());
      });
      splitter.flushRest();
      this.end(app, outcome(code, last));
    }
  }

  begin(app: string): void {
    this.running.set(app, { lines: [], dropped: 0 });
  }

  line(app: string, text: string): void {
    const r = this.running.get(app);
    if (r === undefined) return;
    r.lines.push(text);
    if (r.lines.length > MAX_LINES) {
      r.lines.shift();
      r.dropped++;
    }
    this.emit(app, { type: 'line', text });
  }

  end(app: string, e: DeployEvent): void {
    this.running.delete(app);
    this.emit(app, e);
  }

  /** Replays the running push's lines (or `idle`) then hands on live events; returns the unsubscribe. */
  subscribe(app: string, fn: Listener): () => void {
    const r = this.running.get(app);
    if (r === undefined) fn({ type: 'idle' });
    else {
      if (r.dropped > 0) fn({ type: 'line', text: `[${r.dropped} earlier lines not kept]` });
      for (const text of r.lines) fn({ type: 'line', text });
    }
    let set = this.listeners.get(app);
    if (set === undefined) {
      set = new Set();
      this.listeners.set(app, set);
    }
    set.add(fn);
    return () => {
      set.delete(fn);
      if (set.size === 0 && this.listeners.get(app) === set) this.listeners.delete(app);
    };
  }

  isRunning(app: string): boolean {
    return this.running.has(app);
  }

  listenerCount(): number {
    let n = 0;
    for (const s of this.listeners.values()) n += s.size;
    return n;
  }

  private emit(app: string, e: DeployEvent): void {
    const set = this.listeners.get(app);
    if (set === undefined) return;
    for (const fn of set) fn(e);
  }
}
