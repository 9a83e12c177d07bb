/** Levenshtein distance, for "did you mean". */
function distance(a: string, b: string): number {
  const prev = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let diag = prev[0];
    prev[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = prev[j];
      prev[j] = Math.min(prev[j] + 1, prev[j - 1] + 1, diag + (a[i - 1] === b[j - 1] ? 0 : 1));
      diag = tmp;
    }
  }
  return prev[b.length];
}

/** The closest known name within a third of the input's length, or null. */
export function suggest(input: string, known: Iterable<string>): string | null {
  let best: string | null = null;
  let bestD = Math.max(2, Math.ceil(input.length / 3)) + 1;
  for (const k of known) {
    const d = distance(input, k);
    if (d < bestD) {
      best = k;
      bestD = d;
    }
  }
  return best;
}
