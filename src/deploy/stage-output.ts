import type { Writable } from 'node:stream';

/**
 * The pusher's view of a deploy: `-----> Stage` headers, indented detail lines, and the elapsed
 * time of each stage, which it also collects for the release record.
 */
export class StageOutput {
  readonly timings: Record<string, number> = {};
  private readonly started = Date.now();
  private current: { name: string; at: number } | null = null;

  constructor(readonly out: Writable) {}

  stage(name: string, header: string): void {
    this.end();
    this.current = { name, at: Date.now() };
    this.out.write(`-----> ${header}\n`);
  }

  info(line: string): void {
    this.out.write(`       ${line}\n`);
  }

  end(): void {
    if (!this.current) return;
    this.timings[this.current.name] = Date.now() - this.current.at;
    this.current = null;
  }

  elapsed(): string {
    return `${((Date.now() - this.started) / 1000).toFixed(1)} s`;
  }

  fail(stage: string, message: string): void {
    this.end();
    this.out.write(` !     ${stage} failed: ${message.split('\n').join('\n !     ')}\n`);
  }
}
