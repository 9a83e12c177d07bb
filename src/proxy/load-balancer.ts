import type { Target } from './target.js';

/** Round-robin over a service's healthy targets. The target list is replaced, never mutated. */
export class LoadBalancer {
  private targets: readonly Target[] = [];
  private next = 0;

  setTargets(targets: readonly Target[]): void {
    this.targets = targets;
    this.next = 0;
  }

  get size(): number {
    return this.targets.length;
  }

  pick(): Target | undefined {
    const n = this.targets.length;
    if (n === 0) return undefined;
    if (n === 1) return this.targets[0];
    if (this.next >= n) this.next = 0;
    return this.targets[this.next++];
  }
}
