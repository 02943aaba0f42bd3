import {inputError} from '../errors.js'

/**
 * POSIX shell single-quote quoting: the result is one word for `sh`, whatever `value` holds.
 * Inside single quotes nothing is special except `'` itself, which is written as `'\''`.
 * Always quotes (even plain words), so the result is predictable in rendered scripts.
 * NUL cannot be passed through a shell word at all, so it is refused.
 */
export function quoteShell(value: string): string {
  if (value.includes('\0')) {
    throw inputError('SHELL_NUL', 'A value to pass to the remote shell contains a NUL byte, which no shell argument can carry.', [
      'Remove the NUL character from the value.',
    ])
  }
  return `'${value.replaceAll("'", `'\\''`)}'`
}
