/** A bounded FIFO of framed lines: past `capacity` new lines are refused and counted, so a slow drain costs fixed memory. */
export class DrainQueue {
  private items: Buffer[] = [];
  private head = 0;
  dropped = 0;

  constructor(readonly capacity: number) {}

  get length(): number {
    return this.items.length - this.head;
  }

  push(item: Buffer): boolean {
    if (this.length >= this.capacity) {
      this.dropped++;
      return false;
    }
    this.items.push(item);
    return true;
  }

  shift(): Buffer | undefined {
    if (this.head >= this.items.length) return undefined;
    const v = this.items[this.head++];
    if (this.head > 1024 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    return v;
  }

  /** Up to `max` items (and about `maxBytes`), removed from the queue. */
  take(max: number, maxBytes: number): Buffer[] {
    const out: Buffer[] = [];
    let bytes = 0;
    while (out.length < max && this.length && (bytes === 0 || bytes + this.items[this.head]!.length <= maxBytes)) {
      const v = this.shift()!;
      bytes += v.length;
      out.push(v);
    }
    return out;
  }
}
