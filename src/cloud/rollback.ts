/**
 * What a failed cloud run says after rolling back (newest first): the cloud's error, what was undone, and what could
 * not be removed, with the `destroy` command that removes the rest. The same on every cloud.
 */
import {asBastionError, BastionError} from '../errors.js'

export interface RollbackResult {
  /** Resources this run created and then removed again. */
  undone: string[]
  /** Resources it could not remove, each with why. */
  left: string[]
}

/** The error of a failed run, with what the rollback did (`cloud`: the --cloud value, for the destroy command). */
export function withRollback(err: unknown, cloud: string, name: string, result: RollbackResult): BastionError {
  const e = asBastionError(err)
  const lines: string[] = []
  if (result.undone.length > 0) lines.push(`rolled back what this run created: ${result.undone.join('; ')}`)
  if (result.left.length > 0) lines.push(`could NOT remove: ${result.left.join('; ')}`)
  const suggestions = [...e.suggestions]
  if (result.left.length > 0) suggestions.push(`remove the rest with: bastion destroy --cloud ${cloud} --name ${name} --confirm ${name}`)
  return new BastionError(e.code, lines.length > 0 ? `${e.message}\n${lines.join('\n')}` : e.message, {
    exit: e.exit,
    suggestions,
    detail: {...e.detail, rollback: result},
    cause: e,
  })
}
