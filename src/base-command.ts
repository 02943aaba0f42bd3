/**
 * The one base command (as Salesforce's SfCommand): `--json` on every command, a typed result returned from run(),
 * BastionError → oclif error with exit code and suggestions, progress and colour on stderr only.
 */
import {Command, Errors, type Interfaces} from '@oclif/core'
import {BastionError, Exit} from './errors.js'
import {connect} from './ssh/connection.js'
import {exitCodeFor, type HostOutcome} from './ssh/pool.js'
import {runRemoteScript} from './ssh/remote.js'
import {resolveTarget} from './ssh/target.js'
import type {ConnectionOptions, HostTarget, SshSession} from './ssh/types.js'
import {styleFor, type Style} from './ui/style.js'
import {withHostProgress} from './ui/progress.js'
import type {ScriptRunner} from './vendor/service.js'

export interface HostReport<T> {
  /** The --host value as given. */
  host: string
  ok: boolean
  /** Where we actually connected (after ssh config). */
  target?: {hostName: string; port: number; user: string}
  result?: T
  error?: ReturnType<BastionError['toJSON']>
}

export interface MultiHostResult<T> {
  ok: boolean
  hosts: HostReport<T>[]
}

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

  protected override async catch(err: Error & {exitCode?: number}): Promise<unknown> {
    if (err instanceof BastionError) {
      const cli = new Errors.CLIError(err.message, {exit: err.exit, suggestions: err.suggestions, code: err.code})
      if (this.jsonEnabled()) {
        process.exitCode = err.exit
        this.logJson({error: err.toJSON()})
        return
      }
      return super.catch(cli)
    }
    return super.catch(err)
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
    // Resolve every target first: a malformed --host is a usage error before anything is touched.
    for (const h of hosts) targets.set(h, resolveTarget(h, options))
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
    const lines = [`${this.out.bad('✖')} ${this.out.bold(report.host)}: ${e.message}`]
    for (const s of e.suggestions as string[]) lines.push(`    ${this.out.dim('fix:')} ${s}`)
    return lines
  }
}

export type FlagsOf<T extends typeof Command> = Interfaces.InferredFlags<(typeof BastionCommand)['baseFlags'] & T['flags']>
