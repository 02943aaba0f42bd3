/**
 * Work on several hosts with a progress display on stderr (listr2), silent under --json.
 * Concurrency is bounded; a failing host never stops the others; each host gets its own outcome.
 */
import {Listr, ListrLogger, ProcessOutput} from 'listr2'
import {asBastionError} from '../errors.js'
import {runOnHosts, type HostOutcome} from '../ssh/pool.js'
import {inert} from './inert.js'

export interface HostProgressOptions {
  hosts: string[]
  concurrency: number
  /** Show progress on stderr (false under --json). */
  enabled: boolean
  /** Title of a host's line, e.g. `admin@10.0.0.5: add key for hevo`. */
  title: (host: string) => string
}

/** `report` updates the host's progress line (e.g. "connecting", "running script"). */
export type HostWork<T> = (host: string, index: number, report: (status: string) => void) => Promise<T>

/** listr2 options shared by every progress display: output on stderr, our own signal handling, errors kept visible. */
export function stderrListrOptions() {
  const logger = new ListrLogger({processOutput: new ProcessOutput(process.stderr, process.stderr)})
  return {
    registerSignalListeners: false,
    collectErrors: false as const,
    rendererOptions: {logger, collapseErrors: false},
    fallbackRendererOptions: {logger},
    fallbackRendererCondition: () => !process.stderr.isTTY,
  }
}

export async function withHostProgress<T>(opts: HostProgressOptions, work: HostWork<T>): Promise<HostOutcome<T>[]> {
  if (!opts.enabled) return runOnHosts(opts.hosts, opts.concurrency, (host, i) => work(host, i, () => {}))

  const outcomes: HostOutcome<T>[] = new Array(opts.hosts.length)
  const list = new Listr(
    opts.hosts.map((host, i) => ({
      title: opts.title(host),
      task: async (_ctx: unknown, task: {output: string; title: string}) => {
        try {
          const value = await work(host, i, (status) => {
            task.output = inert(status)
          })
          outcomes[i] = {host, ok: true, value}
        } catch (err) {
          const error = asBastionError(err)
          outcomes[i] = {host, ok: false, error}
          throw new Error(`${opts.title(host)}: ${inert(error.message.split('\n')[0] ?? '')}`, {cause: err})
        }
      },
    })),
    {concurrent: opts.concurrency, exitOnError: false, ...stderrListrOptions()},
  )
  await list.run().catch(() => {})
  return outcomes
}
