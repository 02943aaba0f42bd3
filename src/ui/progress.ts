/**
 * Work on several hosts with a progress display on stderr (listr2), silent under --json.
 * Concurrency is bounded; a failing host never stops the others; each host gets its own outcome.
 */
import {Listr, ListrLogger, ProcessOutput} from 'listr2'
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

/**
 * Plain lines instead of listr2's redrawn display: off a terminal, and on a terminal too narrow to draw in (a CI log
 * console can report 0 columns, and the spinner would then wrap one character per line).
 */
export function useLineRenderer(stream: {isTTY?: boolean; columns?: number}): boolean {
  return !stream.isTTY || !stream.columns || stream.columns < 20
}

/** listr2 options shared by every progress display: output on stderr, our own signal handling, errors kept visible. */
export function stderrListrOptions() {
  const logger = new ListrLogger({processOutput: new ProcessOutput(process.stderr, process.stderr)})
  return {
    registerSignalListeners: false,
    collectErrors: false as const,
    rendererOptions: {logger, collapseErrors: false},
    fallbackRendererOptions: {logger},
    fallbackRendererCondition: () => useLineRenderer(process.stderr),
  }
}

/**
 * Run `work` on every host with runOnHosts (the one scheduler), and show it: a listr2 line per host that only observes
 * the scheduler (queued, the statuses the work reports, done or failed). Nothing is shown when `enabled` is false.
 */
export async function withHostProgress<T>(opts: HostProgressOptions, work: HostWork<T>): Promise<HostOutcome<T>[]> {
  if (!opts.enabled) return runOnHosts(opts.hosts, opts.concurrency, work)

  const ended = opts.hosts.map(() => deferred<HostOutcome<T>>())
  const statusOf: ((status: string) => void)[] = opts.hosts.map(() => () => {})
  const list = new Listr(
    opts.hosts.map((host, i) => ({
      title: opts.title(host),
      task: async (_ctx: unknown, task: {output: string; title: string}) => {
        task.output = opts.hosts.length > opts.concurrency ? 'waiting for a free slot' : 'starting'
        statusOf[i] = (status) => {
          task.output = inert(status)
        }
        const outcome = await ended[i]!.promise
        if (!outcome.ok) throw new Error(`${opts.title(host)}: ${inert(outcome.error.message.split('\n')[0] ?? '')}`, {cause: outcome.error})
      },
    })),
    {concurrent: true, exitOnError: false, ...stderrListrOptions()},
  )
  const shown = list.run().catch(() => {})
  const outcomes = await runOnHosts(opts.hosts, opts.concurrency, work, {
    status: (i, status) => statusOf[i]?.(status),
    done: (i, outcome) => ended[i]?.resolve(outcome),
  })
  await shown
  return outcomes
}

function deferred<T>(): {promise: Promise<T>; resolve: (value: T) => void} {
  let resolve!: (value: T) => void
  const promise = new Promise<T>((r) => (resolve = r))
  return {promise, resolve}
}
