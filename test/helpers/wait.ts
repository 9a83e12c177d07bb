const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Polls `fn` every `every` ms until it returns a truthy value (returned) or `ms` pass (throws,
 * naming `what` and the last error). Errors thrown by `fn` count as "not yet".
 */
export async function waitFor<T>(what: string, fn: () => Promise<T | null | undefined | false>, ms = 60_000, every = 20): Promise<T> {
  const deadline = Date.now() + ms;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const v = await fn();
      if (v) return v;
    } catch (e) {
      last = e;
    }
    await sleep(every);
  }
  throw new Error(`timed out after ${ms} ms waiting for ${what}${last ? ` (last error: ${String(last)})` : ''}`);
}
