import type http from 'node:http';
import type { Service } from '../routing/service.js';
import type { Target } from '../routing/target.js';
import type { ExchangeOwner, UpstreamExchange } from './upstream-exchange.js';

/** Told when a worker takes a target out of rotation after repeated connect failures. */
export type TargetDownListener = (service: string, address: string) => void;

/**
 * One proxied request as the worker tracks it: the target it counts against (in-flight, for
 * drains), the upstream exchange to abort when the client leaves, and passive health: connect
 * failures are recorded on the target and a GET/HEAD moves once to another live target.
 */
export class ProxyContext implements ExchangeOwner {
  target: Target | null;
  exchange: UpstreamExchange | null = null;
  private readonly service: Service;
  private readonly onTargetDown: TargetDownListener;

  constructor(service: Service, target: Target, onTargetDown: TargetDownListener) {
    this.service = service;
    this.target = target;
    this.onTargetDown = onTargetDown;
    target.acquire();
  }

  /**
   * Ties the context to the client's response: when it closes, the target is released.
   * `observed`: a close listener of the caller's calls closeContextOf(res), so none is added here.
   */
  track(res: http.ServerResponse, observed = false): void {
    (res as TrackedResponse)[kContext] = this;
    if (!observed) res.on('close', onResponseClose);
  }

  connectFailed(): void {
    const t = this.target;
    if (t !== null && this.service.connectFailed(t)) this.onTargetDown(this.service.name, t.address);
  }

  /** Whether another target could take the request (stall-watch.ts asks before checking its target). */
  canMove(): boolean {
    const t = this.target;
    return t !== null && this.service.balancer.hasOther(t);
  }

  /** The target stopped accepting connections: out of the rotation at once. */
  targetGone(): void {
    const t = this.target;
    if (t !== null && this.service.markDown(t)) this.onTargetDown(this.service.name, t.address);
  }

  connected(): void {
    const t = this.target;
    if (t !== null && t.connectFailures !== 0) t.connectFailures = 0;
  }

  retarget(): Target | null {
    const failed = this.target;
    const next = failed === null ? null : this.service.balancer.pickOther(failed);
    if (next === null || failed === null) return null;
    failed.release();
    next.acquire();
    this.target = next;
    return next;
  }

  close(): void {
    this.exchange?.destroy();
    const t = this.target;
    if (t !== null) {
      this.target = null;
      t.release();
    }
  }
}

const kContext = Symbol('paasContext');
type TrackedResponse = http.ServerResponse & { [kContext]?: ProxyContext };

function onResponseClose(this: TrackedResponse): void {
  const ctx = this[kContext];
  if (ctx !== undefined) {
    this[kContext] = undefined;
    ctx.close();
  }
}

/** Closes the context tracked on `res`, for a caller that listens for the response's close itself (track's `observed`). */
export function closeContextOf(res: http.ServerResponse): void {
  onResponseClose.call(res as TrackedResponse);
}
