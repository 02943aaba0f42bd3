/** Run one operation per host with bounded concurrency; one host's failure never stops the others. */
import {asBastionError, Exit} from '../errors.js'
import type {BastionError, ErrorJson} from '../errors.js'

export type HostOutcome<T> = {host: string; ok: true; value: T} | {host: string; ok: false; error: BastionError}

/** One host's entry in a command's result (--json): where it connected, and its result or its error. */
export interface HostReport<T> {
  /** The --host value as given. */
  host: string
  ok: boolean
  /** Where we actually connected (after ssh config). */
  target?: {hostName: string; port: number; user: string}
  result?: T
  error?: ErrorJson
}

export interface MultiHostResult<T> {
  ok: boolean
  hosts: HostReport<T>[]
}

/** What a display of the work may watch: a host's work started, reported a status, or ended. */
export interface HostObserver<T> {
  started?(index: number): void
  status?(index: number, status: string): void
  done?(index: number, outcome: HostOutcome<T>): void
}

/**
 * The one scheduler for work on several hosts. Results come back in input order; at most `concurrency` calls of `fn`
 * run at once; `fn` reports its progress through `report`, which the observer (a progress display) sees.
 */
export async function runOnHosts<T>(
  targets: string[],
  concurrency: number,
  fn: (input: string, index: number, report: (status: string) => void) => Promise<T>,
  observer: HostObserver<T> = {},
): Promise<HostOutcome<T>[]> {
  const limit = Math.max(1, Math.floor(Number.isFinite(concurrency) ? concurrency : 1))
  const outcomes = new Array<HostOutcome<T>>(targets.length)
  let next = 0
  const worker = async (): Promise<void> => {
    for (;;) {
      const i = next++
      if (i >= targets.length) return
      const host = targets[i] as string
      observer.started?.(i)
      try {
        outcomes[i] = {host, ok: true, value: await fn(host, i, (status) => observer.status?.(i, status))}
      } catch (error) {
        outcomes[i] = {host, ok: false, error: asBastionError(error)}
      }
      observer.done?.(i, outcomes[i] as HostOutcome<T>)
    }
  }
  await Promise.all(Array.from({length: Math.min(limit, targets.length)}, () => worker()))
  return outcomes
}

/** 0 when all succeeded; the shared exit code when every failure has the same one; otherwise Exit.FAILED. */
export function exitCodeFor(outcomes: HostOutcome<unknown>[]): number {
  const codes = new Set<number>()
  for (const o of outcomes) if (!o.ok) codes.add(o.error.exit)
  if (codes.size === 0) return Exit.OK
  if (codes.size === 1) return [...codes][0] as number
  return Exit.FAILED
}

/** How a host is named in results: the --host value, or a config bastion's label. */
export function hostLabel(host: string | {label: string} | undefined): string {
  return host === undefined ? '' : typeof host === 'string' ? host : host.label
}
