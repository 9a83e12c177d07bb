import { LoadBalancer } from './load-balancer.js';
import { PauseGate } from './pause-gate.js';
import { CONNECT_FAILURE_THRESHOLD, Target } from './target.js';

/** A routed service inside a worker: its hosts, its live targets, and a load balancer over them. */
export class Service {
  readonly name: string;
  hosts: readonly string[] = [];
  readonly targets = new Map<string, Target>();
  readonly balancer = new LoadBalancer();
  /** max request body in bytes (proxy:set max-body-size) */
  bodyLimit = 0;
  /** ps:maintenance: the message every request is answered with (503); null when off */
  maintenance: string | null = null;
  /** ps:pause: new requests wait here until ps:resume or the deadline */
  readonly pause = new PauseGate();

  constructor(name: string) {
    this.name = name;
  }

  /**
   * Replaces the target set in one step: from the return on, removed targets get no new request.
   * Targets kept across the change keep their object (and in-flight count). `down` lists the
   * targets the primary has taken out of rotation. Returns the removed ones.
   */
  setTargets(addresses: readonly string[], down: readonly string[] = []): Target[] {
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
      const isDown = down.includes(addr);
      if (t.down && !isDown) t.connectFailures = 0;
      t.down = isDown;
      ordered.push(t);
    }
    this.balancer.setTargets(ordered);
    return removed;
  }

  /**
   * Records a refused connect to `target`; after CONNECT_FAILURE_THRESHOLD in a row it leaves the
   * rotation at once. Returns true when this call took it out.
   */
  connectFailed(target: Target): boolean {
    target.connectFailures++;
    if (target.connectFailures < CONNECT_FAILURE_THRESHOLD) return false;
    return this.markDown(target);
  }

  /** Takes `target` out of the rotation at once (it stopped accepting connections); true when this call did. */
  markDown(target: Target): boolean {
    if (target.down || target.retired) return false;
    target.down = true;
    this.balancer.refresh();
    return true;
  }
}
