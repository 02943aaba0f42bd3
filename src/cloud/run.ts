/**
 * Running one cloud operation from a command: a progress line on stderr (listr2; silent under --json or when
 * disabled), and Ctrl-C turned into an abort signal, so the operation can stop waiting and roll back what it created.
 * A second Ctrl-C ends the process at once.
 */
import {Listr} from 'listr2'
import {inert} from '../ui/inert.js'
import {stderrListrOptions} from '../ui/progress.js'
import {asBastionError, type BastionError} from '../errors.js'

export interface CloudRunOptions {
  title: string
  /** Show progress on stderr. */
  progress: boolean
}

export async function runCloudOperation<T>(
  opts: CloudRunOptions,
  work: (ctx: {progress: (status: string) => void; signal: AbortSignal}) => Promise<T>,
): Promise<T> {
  const controller = new AbortController()
  let interrupts = 0
  const onSignal = (sig: NodeJS.Signals) => {
    interrupts++
    if (interrupts === 1) {
      process.stderr.write(`\n${sig}: stopping; undoing what this run created (press Ctrl-C again to quit at once and leave it)\n`)
      controller.abort()
      return
    }
    process.stderr.write(`\n${sig} again: quitting now. Resources may be left: bastion list / bastion destroy find them by tag.\n`)
    process.exit(130)
  }
  process.on('SIGINT', onSignal)
  process.on('SIGTERM', onSignal)
  try {
    if (!opts.progress) return await work({progress: () => {}, signal: controller.signal})
    let value: T | undefined
    let failure: BastionError | undefined
    const list = new Listr(
      [
        {
          title: opts.title,
          task: async (_ctx: unknown, task: {output: string}) => {
            try {
              value = await work({
                progress: (status) => {
                  task.output = inert(status)
                },
                signal: controller.signal,
              })
            } catch (err) {
              failure = asBastionError(err)
              throw new Error(`${opts.title}: ${inert(failure.message.split('\n')[0] ?? '')}`, {cause: err})
            }
          },
        },
      ],
      {exitOnError: true, ...stderrListrOptions()},
    )
    await list.run().catch(() => {})
    if (failure) throw failure
    return value as T
  } finally {
    process.off('SIGINT', onSignal)
    process.off('SIGTERM', onSignal)
  }
}
