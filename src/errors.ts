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
  /** bastion itself failed: an unexpected exception or a broken invariant, i.e. a bug (sysexits' EX_SOFTWARE). */
  INTERNAL: 70,
} as const
export type ExitCode = (typeof Exit)[keyof typeof Exit]

export interface BastionErrorOptions {
  /** The exit status this error ends the command with: every error names it (see Exit). */
  exit: number
  suggestions?: string[]
  cause?: unknown
  /** Extra machine-readable detail, included in --json output. */
  detail?: Record<string, unknown>
}

/** The one error shape of --json output: top-level, per host, in doctor's host reports (docs/schemas/error.schema.json). */
export interface ErrorJson {
  code: string
  message: string
  exit: number
  suggestions: string[]
  detail?: Record<string, unknown>
}

export class BastionError extends Error {
  readonly code: string
  readonly exit: number
  readonly suggestions: string[]
  readonly detail?: Record<string, unknown>

  constructor(code: string, message: string, options: BastionErrorOptions) {
    super(message, options.cause === undefined ? undefined : {cause: options.cause})
    this.name = 'BastionError'
    this.code = code
    this.exit = options.exit
    this.suggestions = options.suggestions ?? []
    if (options.detail) this.detail = options.detail
  }

  toJSON(): ErrorJson {
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

/** What to do about a bug: the same words wherever one is reported. */
export const BUG_SUGGESTIONS = [
  'this is a bug in bastion, not something you did: please report it with the command line and this message',
  'run it again with DEBUG=bastion to print the stack trace',
]

/** A broken invariant inside bastion (input that validation should have stopped, an impossible state): a bug, exit 70. */
export function internalError(code: string, message: string, detail?: Record<string, unknown>): BastionError {
  return new BastionError(code, message, {exit: Exit.INTERNAL, suggestions: BUG_SUGGESTIONS, ...(detail ? {detail} : {})})
}

/** The remote script ran on the host and reported a failure (exit 8). */
export function remoteError(code: string, message: string, suggestions: string[] = [], detail?: Record<string, unknown>): BastionError {
  return new BastionError(code, message, {exit: Exit.REMOTE, suggestions, ...(detail ? {detail} : {})})
}

/**
 * Any error as a BastionError. An exception that is not one was not foreseen: it is reported as a bug (INTERNAL,
 * exit 70), with its message, and its stack kept as the cause for DEBUG.
 */
export function asBastionError(err: unknown): BastionError {
  if (err instanceof BastionError) return err
  const e = err instanceof Error ? err : new Error(String(err))
  return new BastionError('INTERNAL', `bastion failed unexpectedly: ${e.message}`, {exit: Exit.INTERNAL, cause: e, suggestions: BUG_SUGGESTIONS})
}
