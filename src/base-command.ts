/**
 * The one base command (as Salesforce's SfCommand): `--json` on every command, a typed result returned from run(),
 * BastionError → oclif error with exit code and suggestions, progress and colour on stderr only.
 * Error messages and warnings quote hosts and input files: in human output they go through inertLines() first.
 */
import {Command, Errors, type Interfaces} from '@oclif/core'
import {BastionError, Exit} from './errors.js'
import {connect} from './ssh/connection.js'
import {exitCodeFor, type HostOutcome, type HostReport, type MultiHostResult} from './ssh/pool.js'
import {runRemoteScript} from './remote/run.js'
import {resolveJumpChain, resolveTarget} from './ssh/target.js'
import type {ConnectionOptions, HostTarget, SshSession} from './ssh/types.js'
import {inert, inertLines} from './ui/inert.js'
import {styleFor, type Style} from './ui/style.js'
import {withHostProgress} from './ui/progress.js'
import type {ScriptRunner} from './remote/run.js'

export interface HostWorkContext {
  target: HostTarget
  session: SshSession
  /** Run a rendered script with root rights on the host (one round trip). */
  run: ScriptRunner
  /** Update the host's progress line. */
  report: (status: string) => void
}

export abstract class BastionCommand<T> extends Command {
  static override enableJsonFlag = true

  /** Styling for stderr (progress, notes). */
  protected err!: Style
  /** Styling for stdout (the human-readable result). */
  protected out!: Style

  public abstract override run(): Promise<T>

  public override async init(): Promise<void> {
    await super.init()
    this.err = styleFor(process.stderr)
    this.out = styleFor(process.stdout)
  }

  protected override async catch(err: Error & {exitCode?: number; oclif?: {exit?: number}}): Promise<unknown> {
    if (err instanceof BastionError) {
      if (this.jsonEnabled()) {
        process.exitCode = err.exit
        this.logJson({error: err.toJSON()})
        return
      }
      return super.catch(new Errors.CLIError(inertLines(err.message), {exit: err.exit, suggestions: err.suggestions.map(inertLines), code: err.code}))
    }
    // oclif's own errors (flag parsing, exit) carry only our text and the command line; any other error may quote a host.
    if (!this.jsonEnabled() && err.oclif === undefined) return super.catch(inertError(err))
    return super.catch(err)
  }

  /** oclif's warning on stderr, with outside text made inert. */
  public override warn(input: string | Error): string | Error {
    return super.warn(typeof input === 'string' ? inertLines(input) : inertError(input))
  }

  protected override toErrorJson(err: unknown): unknown {
    if (err instanceof BastionError) return {error: err.toJSON()}
    const e = err as {message?: string; oclif?: {exit?: number}; code?: string}
    return {error: {code: e.code ?? 'ERROR', message: e.message ?? String(err), exit: e.oclif?.exit ?? Exit.FAILED, suggestions: []}}
  }

  /** A note for the operator on stderr (silent under --json). */
  protected note(message: string): void {
    this.logToStderr(message)
  }

  /**
   * Connect to every --host (bounded concurrency, progress on stderr), run `work` with the session and a script runner,
   * close. One failing host does not stop the others; each gets its own outcome, in --host order.
   */
  protected async workOnHosts<R>(
    hosts: string[],
    options: ConnectionOptions & {concurrency: number},
    title: (host: string) => string,
    work: (ctx: HostWorkContext) => Promise<R>,
    progress: boolean = !this.jsonEnabled(),
  ): Promise<{outcomes: HostOutcome<R>[]; targets: Map<string, HostTarget>}> {
    const targets = new Map<string, HostTarget>()
    // Resolve every target and its jump hosts first: a malformed --host or --jump is a usage error before anything is touched.
    for (const h of hosts) {
      const target = resolveTarget(h, options)
      resolveJumpChain(target, options)
      targets.set(h, target)
    }
    const outcomes: HostOutcome<R>[] = await withHostProgress(
      {hosts, concurrency: options.concurrency, enabled: progress, title},
      async (host, _i, report) => {
        const target = targets.get(host) as HostTarget
        report(`connecting to ${target.user}@${target.hostName}:${target.port}`)
        const session = await connect(target, options)
        try {
          return await work({
            target,
            session,
            report,
            run: (script) => {
              report('running the remote script')
              return runRemoteScript(session, script)
            },
          })
        } finally {
          session.close()
        }
      },
    )
    return {outcomes, targets}
  }

  /** workOnHosts, with the exit code set from the outcomes and the per-host result shape every host command returns. */
  protected async onHosts<R>(
    hosts: string[],
    options: ConnectionOptions & {concurrency: number},
    title: (host: string) => string,
    work: (ctx: HostWorkContext) => Promise<R>,
  ): Promise<MultiHostResult<R>> {
    const {outcomes, targets} = await this.workOnHosts(hosts, options, title, work)
    const code = exitCodeFor(outcomes)
    if (code !== 0) process.exitCode = code
    return {
      ok: code === 0,
      hosts: outcomes.map((o) => {
        const t = targets.get(o.host)
        const target = t ? {hostName: t.hostName, port: t.port, user: t.user} : undefined
        return o.ok
          ? {host: o.host, ok: true, ...(target ? {target} : {}), result: o.value}
          : {host: o.host, ok: false, ...(target ? {target} : {}), error: o.error.toJSON()}
      }),
    }
  }

  /** Human rendering of a failed host: the message, then how to fix it. */
  protected renderHostError(report: HostReport<unknown>): string[] {
    const e = report.error
    if (!e) return []
    const lines = [`${this.out.bad('✖')} ${this.out.bold(inert(report.host))}: ${inertLines(String(e.message))}`]
    for (const s of e.suggestions as string[]) lines.push(`    ${this.out.dim('fix:')} ${inertLines(s)}`)
    return lines
  }
}

/** A copy of an error for printing: name, message and stack made inert, the exit code kept, the cause chain left out. */
function inertError(err: Error & {exitCode?: number}): Error & {exitCode?: number} {
  const copy: Error & {exitCode?: number} = new Error(inertLines(err.message))
  copy.name = inert(err.name)
  copy.stack = err.stack === undefined ? undefined : inertLines(err.stack)
  if (err.exitCode !== undefined) copy.exitCode = err.exitCode
  return copy
}

export type FlagsOf<T extends typeof Command> = Interfaces.InferredFlags<(typeof BastionCommand)['baseFlags'] & T['flags']>
