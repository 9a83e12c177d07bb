import type { Logger } from '../log/logger.js';
import type { TriggerHandler, TriggerName, TriggerPayloads } from './triggers.js';

/** Delivers typed triggers to plugin handlers, in registration order; a failing handler is logged, not fatal. */
export class TriggerBus {
  private readonly handlers = new Map<TriggerName, { plugin: string; fn: TriggerHandler<TriggerName> }[]>();

  constructor(private readonly log: Logger) {}

  on<N extends TriggerName>(name: N, plugin: string, fn: TriggerHandler<N>): void {
    const list = this.handlers.get(name) ?? [];
    list.push({ plugin, fn: fn as TriggerHandler<TriggerName> });
    this.handlers.set(name, list);
  }

  async emit<N extends TriggerName>(name: N, payload: TriggerPayloads[N]): Promise<void> {
    for (const h of this.handlers.get(name) ?? []) {
      try {
        await h.fn(payload);
      } catch (err) {
        this.log.error({ err, trigger: name, plugin: h.plugin }, 'trigger handler failed');
      }
    }
  }
}
