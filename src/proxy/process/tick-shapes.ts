import { createHook } from 'node:async_hooks';

/**
 * Tick objects kept for the process's life, so that the object maps (hidden classes) of
 * `process.nextTick`'s tick objects never die.
 *
 * Every Node stream schedules its work through `process.nextTick`, which builds each tick object
 * from an object literal with computed symbol keys, through an inline cache that points at the
 * literal's maps only weakly. A full GC that runs while no tick object is alive (a quiet moment:
 * an idle proxy between health checks) collects those maps; after a few such GCs the cache gives
 * up (megamorphic) and every tick object is built in V8's runtime: measured here, `nextTick` went
 * from 50 to 280 ns a call after three such GCs, and the proxy from about 90 to about 100 µs of
 * CPU a request, for the rest of the process's life (docs/benchmarks.md, session 13). One object
 * of each shape held here keeps the maps alive, and the cache stays as fast as it started.
 * `--no-memory-reducer` (proxy-node-flags.ts) removed the GCs an idle process ran most, not all.
 */
const held: object[] = [];

/**
 * Tick objects of both shapes `nextTick` makes (without and with arguments), caught by an async
 * hook enabled only for the two calls.
 */
export function captureTickObjects(): object[] {
  const out: object[] = [];
  const hook = createHook({
    init(_id, type, _trigger, resource) {
      if (type === 'TickObject') out.push(resource as object);
    },
  });
  hook.enable();
  try {
    process.nextTick(noop);
    process.nextTick(noop, 0);
  } finally {
    hook.disable();
  }
  return out;
}

/** Captures the tick objects (captureTickObjects) and keeps them. Idempotent; returns how many are held. */
export function holdTickShapes(): number {
  if (held.length === 0) held.push(...captureTickObjects());
  return held.length;
}

/** The tick objects held (for tests: a tick object made later must have one of their maps). */
export function heldTickObjects(): readonly object[] {
  return held;
}

function noop(): void {}
