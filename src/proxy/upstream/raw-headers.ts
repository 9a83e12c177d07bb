/**
 * The value of the first line named `name` (lowercase) in raw headers ([name, value, ...]), names
 * compared in any case; undefined when there is none. Reading a message's raw lines instead of
 * its `headers` keeps Node from building that object (it does on first read) for one value.
 */
export function rawHeader(raw: readonly string[] | undefined, name: string): string | undefined {
  if (raw === undefined) return undefined;
  for (let i = 0; i < raw.length; i += 2) {
    const n = raw[i]!;
    if (n.length === name.length && n.toLowerCase() === name) return raw[i + 1];
  }
  return undefined;
}
