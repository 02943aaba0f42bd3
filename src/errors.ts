/**
 * One error class for the whole CLI: a stable code, an exit status, and suggestions that say how to fix it.
 * Commands turn it into oclif's `this.error(message, {exit, suggestions})`.
 */
export const Exit = {
  OK: 0,
  /** A check failed, or at least one host of several failed for differing reasons. */
  FAILED: 1,
  /** Bad flags or input: nothing was changed. */
  USAGE: 2,
  /** Host key unknown, changed, or did not match the pin. */
  HOST_KEY: 3,
  /** The SSH server refused our login. */
  AUTH: 4,
  /** sudo wants a password (or is missing) on the host. */
  SUDO: 5,
  /** The host could not be reached: DNS failure, connection refused, no route. */
  UNREACHABLE: 6,
  /** Connecting or the remote work timed out. */
  TIMEOUT: 7,
  /** The remote script ran and reported a failure. */
  REMOTE: 8,
} as const
export type ExitCode = (typeof Exit)[keyof typeof Exit]

export interface BastionErrorOptions {
  exit?: number
  suggestions?: string[]
  cause?: unknown
  /** Extra machine-readable detail, included in --json output. */
  detail?: Record<string, unknown>
}

export class BastionError extends Error {
  readonly code: string
  readonly exit: number
  readonly suggestions: string[]
  readonly detail?: Record<string, unknown>

  constructor(code: string, message: string, options: BastionErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : {cause: options.cause})
    this.name = 'BastionError'
    this.code = code
    this.exit = options.exit ?? Exit.USAGE
    this.suggestions = options.suggestions ?? []
    if (options.detail) this.detail = options.detail
  }

  toJSON(): Record<string, unknown> {
    return {
      code: this.code,
      message: this.message,
      exit: this.exit,
      suggestions: this.suggestions,
      ...(this.detail ? {detail: this.detail} : {}),
    }
  }
}

/** Input that fails validation: what was wrong, why, and how to fix it. Exit 2, nothing changed. */
export function inputError(code: string, message: string, suggestions: string[] = [], detail?: Record<string, unknown>): BastionError {
  return new BastionError(code, message, {exit: Exit.USAGE, suggestions, ...(detail ? {detail} : {})})
}

export function asBastionError(err: unknown): BastionError {
  if (err instanceof BastionError) return err
  const e = err instanceof Error ? err : new Error(String(err))
  return new BastionError('INTERNAL', e.message, {exit: Exit.FAILED, cause: e})
}
