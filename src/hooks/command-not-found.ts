/**
 * An unknown command (`bastion add-vendor-ky`): the closest command is named as terraform and aws do, on a terminal or
 * not, and under --json the answer is the same JSON error every command prints. Exit 127, as a shell's "command not
 * found" (documented in the README). Nothing is run on a guess.
 */
import {Errors, type Hook} from '@oclif/core'
import {closestCommand} from '../input/suggest.js'

const hook: Hook.CommandNotFound = async function (opts) {
  const visible = opts.config.commands.filter((c) => !c.hidden)
  const ids = [...visible.map((c) => c.id), ...visible.flatMap((c) => c.aliases)]
  const sep = opts.config.topicSeparator
  const shown = (id: string) => id.replaceAll(':', sep)
  const typed = shown(opts.id)
  const closest = closestCommand(opts.id, ids)
  const rest = (opts.argv ?? []).filter((a) => a !== '--json')
  const suggestions = [
    ...(closest ? [`did you mean: ${opts.config.bin} ${[shown(closest), ...rest].join(' ')}`] : []),
    `${opts.config.bin} --help lists every command`,
  ]
  const message = `"${typed}" is not a ${opts.config.bin} command`
  if ((opts.argv ?? []).includes('--json')) {
    process.stdout.write(`${JSON.stringify({error: {code: 'COMMAND_NOT_FOUND', message, exit: 127, suggestions}}, null, 2)}\n`)
    process.exit(127)
  }
  Errors.error(message, {exit: 127, suggestions})
}

export default hook
