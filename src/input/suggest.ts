/** The known name closest to what was typed (edit distance), if it is close enough to be what was meant. */
export function closestCommand(typed: string, known: string[]): string | undefined {
  let best: {id: string; d: number} | undefined
  for (const id of known) {
    const d = distance(typed, id)
    if (!best || d < best.d) best = {id, d}
  }
  // A third of the name may be wrong (add-vendor-ky, doctr, whitelist:ad); beyond that it is a guess.
  if (!best || best.d > Math.max(2, Math.floor(best.id.length / 3))) return undefined
  return best.id
}

/** Levenshtein distance with adjacent transpositions (Damerau, optimal string alignment). */
export function distance(a: string, b: string): number {
  const d: number[][] = Array.from({length: a.length + 1}, (_, i) => Array.from({length: b.length + 1}, (_, j) => (i === 0 ? j : j === 0 ? i : 0)))
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1
      const row = d[i]!
      row[j] = Math.min(d[i - 1]![j]! + 1, row[j - 1]! + 1, d[i - 1]![j - 1]! + cost)
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) row[j] = Math.min(row[j]!, d[i - 2]![j - 2]! + 1)
    }
  }
  return d[a.length]![b.length]!
}
