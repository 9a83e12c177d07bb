/**
 * Holds a paused service's new requests (ps:pause) until it is resumed or the pause's deadline
 * passes, then lets them all go on in arrival order. Requests are never dropped by the gate; a
 * client that leaves while held is simply not continued.
 */
export class PauseGate {
  /** epoch ms the pause ends at; 0 when not paused */
  private until = 0;
  private held: Array<() => void> = [];
  private timer: NodeJS.Timeout | null = null;

  get paused(): boolean {
    return this.until !== 0;
  }

  get waiting(): number {
    return this.held.length;
  }

  /** Pauses until `untilMs` (epoch ms), or resumes when it is 0 or already past. */
  set(untilMs: number): void {
    if (untilMs === this.until) return;
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    const left = untilMs - Date.now();
    if (untilMs === 0 || left <= 0) {
      this.until = 0;
      this.release();
      return;
    }
    this.until = untilMs;
    this.timer = setTimeout(() => this.set(0), left);
    this.timer.unref();
  }

  /** Runs `go` now when not paused, else once the pause ends. */
  hold(go: () => void): void {
    if (this.until === 0) go();
    else this.held.push(go);
  }

  private release(): void {
    const held = this.held;
    this.held = [];
    for (const go of held) go();
  }
}
