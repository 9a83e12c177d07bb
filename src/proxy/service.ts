import { LoadBalancer } from './load-balancer.js';
import { Target } from './target.js';

/** A routed service inside a worker: its hosts, its live targets, and a load balancer over them. */
export class Service {
  readonly name: string;
  hosts: readonly string[] = [];
  readonly targets = new Map<string, Target>();
  readonly balancer = new LoadBalancer();

  constructor(name: string) {
    this.name = name;
  }

  /**
   * Replaces the target set in one step: from the return on, removed targets get no new request.
   * Targets kept across the change keep their object (and in-flight count). Returns the removed ones.
   */
  setTargets(addresses: readonly string[]): Target[] {
    const removed: Target[] = [];
    const wanted = new Set(addresses);
    for (const [addr, t] of this.targets) {
      if (!wanted.has(addr)) {
        this.targets.delete(addr);
        t.retired = true;
        removed.push(t);
      }
    }
    const ordered: Target[] = [];
    for (const addr of addresses) {
      let t = this.targets.get(addr);
      if (!t) {
        t = new Target(addr);
        this.targets.set(addr, t);
      }
      ordered.push(t);
    }
    this.balancer.setTargets(ordered);
    return removed;
  }
}
