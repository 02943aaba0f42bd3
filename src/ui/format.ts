/**
 * `--format`: one flag, one meaning across commands (doctor, config validate): how the result is printed on stdout.
 * `human` for people, `json` the --json result, `junit` a CI test report, `github` workflow annotations, `sarif` for
 * code scanning. A command offers the formats it can render; --json is the same as --format json.
 */
import {Flags} from '@oclif/core'

export type OutputFormat = 'human' | 'json' | 'junit' | 'github' | 'sarif'

const FORMAT_WORDS: Record<OutputFormat, string> = {
  human: 'for people',
  json: 'the result as JSON',
  junit: 'a JUnit XML report for CI',
  github: 'GitHub Actions workflow annotations (::error file=…::)',
  sarif: 'SARIF 2.1.0 for code scanning',
}

/** The --format flag of a command that renders these formats (the first is the default). */
export function formatFlag<F extends OutputFormat>(formats: readonly [F, ...F[]]) {
  return Flags.string({
    description: `Output format (--json is the same as --format json): ${formats.map((f) => `${f} ${FORMAT_WORDS[f]}`).join('; ')}.`,
    options: [...formats],
    default: formats[0],
  })
}

/** The format to print: json under --json, else the flag's. */
export function outputFormat<F extends OutputFormat>(jsonEnabled: boolean, flag: string | undefined, formats: readonly [F, ...F[]]): F | 'json' {
  return jsonEnabled ? 'json' : ((flag ?? formats[0]) as F)
}

/** `--format <f>` or `--format=<f>` among the arguments (read before or without a successful parse, e.g. in catch()). */
export function formatInArgv(argv: string[]): string | undefined {
  const end = argv.indexOf('--')
  const args = end < 0 ? argv : argv.slice(0, end)
  for (const [i, a] of args.entries()) {
    if (a.startsWith('--format=')) return a.slice('--format='.length)
    if (a === '--format') return args[i + 1]
  }
  return undefined
}
