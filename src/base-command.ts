/**
 * The one base command (as Salesforce's SfCommand): `--json` on every command, a typed result returned from run(),
 * BastionError → oclif error with exit code and suggestions, progress and colour on stderr only.
 * Error messages and warnings quote hosts and input files: in human output they go through inertLines() first.
 * - warnings: `this.warning()` prints one on stderr (not under --json) and adds it to the result's `warnings`;
 * - `this.show(() => render(result))` prints the human rendering unless --json;
 * - an exception that is not a BastionError is reported as a bug (exit 70), its stack under DEBUG=bastion.
 */
import {Command, Errors, Flags, type Interfaces} from '@oclif/core'
import {asBastionError, BastionError, Exit, internalError} from './errors.js'
import {renamedFlagWarnings} from './input/renamed-flags.js'
import {exitCodeFor, type HostOutcome, type HostReport, type MultiHostResult} from './ssh/pool.js'
import type {ConnectionOptions, HostTarget, SshSession} from './ssh/types.js'
import {inert, inertLines} from './ui/inert.js'
import {styleFor, type Style} from './ui/style.js'
import type {ScriptRunner} from './remote/run.js'

/** A host to work on with its own connection options (a bastion of a config file), reported under `label`. */
export interface HostItem {
  /** How the host is named in progress lines and results (e.g. the bastion's name in the config file). */
  label: string
  /** The --host value: [user@]host[:port] or an ssh config alias. */
  host: string
  options?: ConnectionOptions
}

export interface HostWorkContext {
  target: HostTarget
  /** The host's label (the --host value, or the bastion's name from a config file). */
  label: string
  session: SshSession
  /** Run a rendered script with root rights on the host (one round trip). */
  run: ScriptRunner
  /** Update the host's progress line. */
  report: (status: string) => void
}

export abstract class BastionCommand<T> extends Command {
  static override baseFlags = {
    quiet: Flags.boolean({
      char: 'q',
      description: 'Print nothing but errors: no progress, no warnings, no human-readable result (the exit code tells). --json and --format still print what they are asked for.',
      helpGroup: 'GLOBAL',
    }),
  }

  static override enableJsonFlag = true

  /**
   * The version of the command's --json result, put first in every result (raised when a change would break a
   * reader); its JSON Schema is docs/schemas/<command>.schema.json, printed by `bastion schema <command>`.
   */
  static schemaVersion: number | undefined = undefined

  /** Styling for stderr (progress, notes). */
  protected err!: Style
  /** Styling for stdout (the human-readable result). */
  protected out!: Style
  /** Warnings of this run, in order: printed as they come, and merged into the --json result. */
  protected readonly warnings: string[] = []
  /** --quiet: print nothing but errors (and what --json or --format asks for). */
  protected quiet = false

  public abstract override run(): Promise<T>

  public override async init(): Promise<void> {
    await super.init()
    this.err = await styleFor(process.stderr)
    this.out = await styleFor(process.stdout)
    // Known before parsing, so even a command that fails in parse() is quiet.
    const end = this.argv.indexOf('--')
    this.quiet = (end < 0 ? this.argv : this.argv.slice(0, end)).some((a) => a === '--quiet' || a === '-q')
  }

  /** Whether progress lines go to stderr: not under --json, not with --quiet. */
  protected get progressShown(): boolean {
    return !this.jsonEnabled() && !this.quiet
  }

  protected override async catch(err: Error & {exitCode?: number; oclif?: {exit?: number}}): Promise<unknown> {
    // oclif's own errors (flag parsing, exit) carry only our text and the command line; anything else unforeseen is a bug.
    if (!(err instanceof BastionError) && err.oclif === undefined) {
      if (isDebug()) process.stderr.write(`${inertLines(err.stack ?? String(err))}\n`)
      return this.catch(asBastionError(err))
    }
    if (err instanceof BastionError) {
      if (this.jsonEnabled()) {
        process.exitCode = err.exit
        this.logJson({error: err.toJSON()})
        return
      }
      return super.catch(new Errors.CLIError(inertLines(err.message), {exit: err.exit, suggestions: err.suggestions.map(inertLines), code: err.code}))
    }
    return super.catch(err)
  }

  /** oclif's parse, then a deprecation warning for each renamed flag given by its old name (src/input/renamed-flags.ts). */
  protected override async parse<F extends Record<string, unknown>, B extends Record<string, unknown>, A extends Record<string, unknown>>(
    options?: Interfaces.Input<F, B, A>,
    argv: string[] = this.argv,
  ): Promise<Interfaces.ParserOutput<F, B, A>> {
    const parsed = await super.parse(options, argv)
    for (const w of renamedFlagWarnings(argv, (options?.flags ?? {}) as Record<string, {aliases?: string[]}>)) this.warning(w)
    return parsed
  }

  /** A warning for the operator: on stderr now (not under --json), and in the result's `warnings`. */
  protected warning(message: string): void {
    if (this.warnings.includes(message)) return
    this.warnings.push(message)
    if (!this.quiet) this.warn(message)
  }

  /** Print the human rendering of a result on stdout, unless --json asked for the result itself. */
  protected show(render: () => string): void {
    if (!this.jsonEnabled() && !this.quiet) this.log(render())
  }

  /**
   * The --json result: `schemaVersion` (the class's) first, then the command's own result, with every warning of the
   * run in `warnings` (each once, in order).
   */
  protected override toSuccessJson(result: unknown): unknown {
    const {schemaVersion} = this.constructor as typeof BastionCommand
    if (schemaVersion === undefined) throw internalError('SCHEMA_VERSION_MISSING', `the command "${this.id}" declares no schemaVersion`)
    if (typeof result !== 'object' || result === null || Array.isArray(result))
      throw internalError('RESULT_NOT_OBJECT', `the command "${this.id}" returned a result that is not an object`)
    const versioned = {schemaVersion, ...result}
    if (this.warnings.length === 0) return versioned
    const own = (result as {warnings?: unknown}).warnings
    const ownList = Array.isArray(own) ? (own as string[]) : []
    return {...versioned, warnings: [...ownList, ...this.warnings.filter((w) => !ownList.includes(w))]}
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

  /**
   * Connect to every --host (bounded concurrency, progress on stderr), run `work` with the session and a script runner,
   * close. One failing host does not stop the others; each gets its own outcome, in --host order. A host may come with
   * its own connection options and a label (bastions of a config file: src/config/flags.ts); outcomes are keyed by the
   * label, which is the host itself when none is given.
   */
  protected async workOnHosts<R>(
    hosts: (string | HostItem)[],
    options: ConnectionOptions & {concurrency: number},
    title: (host: string) => string,
    work: (ctx: HostWorkContext) => Promise<R>,
    progress: boolean = this.progressShown,
  ): Promise<{outcomes: HostOutcome<R>[]; targets: Map<string, HostTarget>}> {
    // SSH (ssh2), the remote runner and the progress display (listr2) load here, on first use: a command that works on
    // no host (config validate, schema) starts without them.
    const [{connect}, {runRemoteScript}, {resolveJumpChain, resolveTarget}, {withHostProgress}] = await Promise.all([
      import('./ssh/connection.js'),
      import('./remote/run.js'),
      import('./ssh/target.js'),
      import('./ui/progress.js'),
    ])
    const items = hosts.map((h) => (typeof h === 'string' ? {label: h, host: h, options} : {...h, options: h.options ?? options}))
    const targets = new Map<string, HostTarget>()
    // Resolve every target and its jump hosts first: a malformed --host or --jump is a usage error before anything is touched.
    for (const item of items) {
      const target = resolveTarget(item.host, item.options)
      resolveJumpChain(target, item.options)
      targets.set(item.label, target)
    }
    const byLabel = new Map(items.map((i) => [i.label, i]))
    const outcomes: HostOutcome<R>[] = await withHostProgress(
      {hosts: items.map((i) => i.label), concurrency: options.concurrency, enabled: progress, title},
      async (label, _i, report) => {
        const target = targets.get(label) as HostTarget
        const item = byLabel.get(label) as HostItem
        report(`connecting to ${target.user}@${target.hostName}:${target.port}`)
        const session = await connect(target, item.options ?? options)
        try {
          return await work({
            target,
            session,
            label,
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
    hosts: (string | HostItem)[],
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
    // Remote errors already start with the host (they also stand alone as the single-host error); say it once.
    const message = String(e.message)
    const own = message.startsWith(`${report.host}: `) ? message.slice(report.host.length + 2) : message
    const lines = [`${this.out.bad('✖')} ${this.out.bold(inert(report.host))}: ${inertLines(own)}`]
    for (const s of e.suggestions as string[]) lines.push(`    ${this.out.dim('fix:')} ${inertLines(s)}`)
    return lines
  }
}

/** DEBUG=bastion (or DEBUG=*, or a list naming bastion): print the stack of an unexpected error. */
function isDebug(): boolean {
  return (process.env.DEBUG ?? '').split(/[\s,]+/).some((d) => d === '*' || d === 'bastion' || d === 'bastion:*')
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
