/**
 * Flags that were renamed so that one meaning has one name on every command. An old name keeps working for a
 * release as a hidden alias of the new flag (oclif parses it as the new flag, repeats and all; help shows only the
 * new name), and using it prints a one-line deprecation warning.
 */

/** `flag` under its new name, still answering to `old` names (hidden from help). */
export function renamedFrom<F extends object>(flag: F, ...old: string[]): F {
  return {...flag, aliases: old}
}

/** The deprecation warning for each old flag name used in `argv` (before any `--`), in the order of `flags`. */
export function renamedFlagWarnings(argv: readonly string[], flags: Record<string, {aliases?: string[] | undefined}>): string[] {
  const end = argv.indexOf('--')
  const given = end < 0 ? argv : argv.slice(0, end)
  const warnings: string[] = []
  for (const [name, def] of Object.entries(flags))
    for (const old of def.aliases ?? [])
      if (given.some((a) => a === `--${old}` || a.startsWith(`--${old}=`)))
        warnings.push(`--${old} is deprecated and will be removed in the next release: use --${name} (the same flag)`)
  return warnings
}
