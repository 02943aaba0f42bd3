/**
 * `bastion config validate`'s service: load each file (YAML with positions, the schema), lint it (src/config/lint.ts)
 * and sum up. Offline: the only I/O is reading the config files and the key files they name.
 */
import {lintConfig, sortIssues, type KeyReader} from './lint.js'
import {loadConfigFile, type ConfigIssue} from './load.js'
import {readVendorKey} from './keys.js'

/** The version of `config validate`'s --json result (docs/schemas/config-validate.schema.json). */
export const VALIDATE_SCHEMA_VERSION = 1

export interface ConfigFileReport {
  /** The file as given. */
  file: string
  /** No error (and, with --strict, no warning). */
  valid: boolean
  errors: number
  warnings: number
  /** In file order. */
  issues: ConfigIssue[]
}

export interface ConfigValidateResult {
  schemaVersion: number
  /** Every file valid. */
  valid: boolean
  /** 0: valid (warnings allowed unless strict); 1: an error (or, with strict, a warning). */
  exitCode: 0 | 1
  /** Warnings fail too. */
  strict: boolean
  summary: {files: number; errors: number; warnings: number}
  files: ConfigFileReport[]
}

export interface ValidateOptions {
  strict?: boolean
  now?: Date
  cwd?: string
  readKey?: KeyReader
}

/** Validate one file; a file that does not exist or cannot be read throws (BastionError, exit 2). */
export async function validateConfigFile(file: string, opts: ValidateOptions = {}): Promise<ConfigFileReport> {
  const loaded = await loadConfigFile(file, opts.cwd)
  const issues = sortIssues([...loaded.issues, ...lintConfig(loaded, opts.now ?? new Date(), opts.readKey ?? readVendorKey)])
  const errors = issues.filter((i) => i.severity === 'error').length
  const warnings = issues.length - errors
  return {file, valid: errors === 0 && (!opts.strict || warnings === 0), errors, warnings, issues}
}

/** Validate every file (each once, in the order given). */
export async function validateConfigFiles(files: string[], opts: ValidateOptions = {}): Promise<ConfigValidateResult> {
  const reports: ConfigFileReport[] = []
  for (const f of new Set(files)) reports.push(await validateConfigFile(f, opts))
  const valid = reports.every((r) => r.valid)
  return {
    schemaVersion: VALIDATE_SCHEMA_VERSION,
    valid,
    exitCode: valid ? 0 : 1,
    strict: opts.strict ?? false,
    summary: {
      files: reports.length,
      errors: reports.reduce((n, r) => n + r.errors, 0),
      warnings: reports.reduce((n, r) => n + r.warnings, 0),
    },
    files: reports,
  }
}
