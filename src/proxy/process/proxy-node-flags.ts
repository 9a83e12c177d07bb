/**
 * Node/V8 options every proxy process runs with: the primary started by the control plane, a
 * successor started by a hand-over, and (inherited through node:cluster) its workers.
 *
 * `--no-memory-reducer`: V8's memory reducer runs memory-saving full GCs when a process goes
 * quiet, and a memory-saving GC drops the object maps only inline caches still point at. A proxy
 * that sat idle after starting (health checks only, as after every deploy of paas or a quiet
 * night) met its first traffic with those maps gone: the caches of Node's own hot object literals
 * (process.nextTick's tick objects, in every stream) went megamorphic and never came back, and
 * every request paid V8's runtime slow path, about 15% more CPU per request for the process's
 * whole life (docs/benchmarks.md, "the proxy's slow state"). The cost of the flag: a heap grown
 * under load is not shrunk while the proxy is idle (it is at the next GC). Ordinary full GCs at a
 * quiet moment did the same, less often: tick-shapes.ts keeps those maps alive.
 */
export const PROXY_NODE_FLAGS: readonly string[] = ['--no-memory-reducer'];

/** `execArgv` (a tsx loader in tests, say) with the proxy's flags added where missing. */
export function proxyExecArgv(execArgv: readonly string[]): string[] {
  return [...execArgv, ...PROXY_NODE_FLAGS.filter((f) => !execArgv.includes(f))];
}
