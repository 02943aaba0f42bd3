import {Flags} from '@oclif/core'
import {BastionCommand} from '../base-command.js'
import {executeAllowlist, executeHost, observeHost, reportOf, type ChangeReport} from '../config/apply.js'
import {observeAllowlist} from '../config/cloud.js'
import {reachableBastionHosts, configFlags, loadSelected, refuseWithConfig} from '../config/flags.js'
import {allowlistDrift, hostDrift, paintDiffLine, planChanges, renderDiff, untouched, untouchedLine, type BastionDiff, type Drift} from '../config/reconcile.js'
import {givenFlags} from '../cloud/seam.js'
import {asBastionError, Exit, type ErrorJson} from '../errors.js'
import {todayUtc} from '../input/parse.js'
import {connectionFlags} from '../ssh/flags.js'
import type {WhitelistView} from '../cloud/provider.js'
import {inert} from '../ui/inert.js'
import type {ResolvedBastion} from '../config/resolve.js'

export interface ApplyBastion {
  bastion: string
  /** Where the host was reached ([user@]host[:port] as connected). */
  host?: string
  /** The firewall the allowlist lives in (security group id …), for a cloud bastion. */
  firewall?: string
  ok: boolean
  /** The host could not be reached or read: its changes were not planned. */
  error?: ErrorJson
  /** The allowlist could not be read or changed. */
  allowlistError?: ErrorJson
  changes: ChangeReport[]
  /** What is left alone: bastion-owned entries the file no longer lists (without --prune), and what bastion does not own. */
  untouched: string[]
}

export interface ApplyResult {
  dryRun: boolean
  prune: boolean
  file: string
  ok: boolean
  summary: {bastions: number; changes: number; done: number; unchanged: number; failed: number}
  bastions: ApplyBastion[]
}

export default class Apply extends BastionCommand<ApplyResult> {
  static override description = `Makes the bastions what the config file (bastion.yml) says. For each bastion it observes (one round trip reads the vendor accounts and their key lines; for a cloud bastion the provider's allowlist view), reconciles, and executes: adds the vendors and keys the file lists, rewrites a key line whose databases (permitopen), source addresses (from=) or expiry differ from the file, and adds missing allowlist rules. With --prune it also removes the bastion-owned key lines and the bastion-written allowlist rules the file no longer lists. Lines and rules bastion does not own are never touched (they are listed).

--dry-run prints the diff — + add, - remove, ~ update, per host and per rule — and changes nothing. The real run reports each change. The host work is the scripts add-vendor-key and remove-vendor-key run (atomic, under the vendor's lock, safe to re-run), all of a host's changes in one round trip; interrupted, a re-run finishes the job.

Exit codes: 0 every change made (or none needed), 1 some change or bastion failed (the report says which), 2 bad input or an invalid config file (nothing changed).`

  static override examples = [
    {description: 'What would change on every bastion of the file', command: '<%= config.bin %> <%= command.id %> --config bastion.yml --dry-run'},
    {description: 'Converge one bastion, removing what the file no longer lists', command: '<%= config.bin %> <%= command.id %> --config bastion.yml --bastion warehouse-jump --prune'},
  ]

  static override flags = {
    ...configFlags,
    'accept-new': connectionFlags['accept-new'],
    'command-timeout': connectionFlags['command-timeout'],
    concurrency: Flags.integer({description: 'How many bastions to work on at once (default: all of them).', min: 1}),
    'connect-timeout': connectionFlags['connect-timeout'],
    'dry-run': Flags.boolean({description: 'Observe and print the diff (+ add, - remove, ~ update); change nothing.'}),
    prune: Flags.boolean({description: 'Also remove bastion-owned key lines and bastion-written allowlist rules the file does not list. Never what bastion does not own.'}),
  }

  /** The version of this command's --json result and its schema (docs/schemas/, bastion schema). */
  static override schemaVersion = 1

  static override summary = 'Converge bastions and their allowlists to the config file (bastion.yml).'

  public override async run(): Promise<ApplyResult> {
    const {flags, raw} = await this.parse(Apply)
    refuseWithConfig(givenFlags(raw))
    const {loaded, bastions, warnings} = await loadSelected({...(flags.config === undefined ? {} : {config: flags.config}), bastion: flags.bastion ?? []})
    for (const w of warnings) this.warning(w)
    const dryRun = flags['dry-run']
    const prune = flags.prune
    const today = todayUtc()

    const {items, unreachable} = await reachableBastionHosts(bastions, flags)

    // The allowlists: observed (and changed) beside the hosts.
    const allowlists = new Map(bastions.filter((b) => b.cloud).map((b) => [b.name, this.allowlist(b, {dryRun, prune})]))

    const {outcomes, targets} = await this.workOnHosts(
      items,
      {concurrency: flags.concurrency ?? Math.max(1, items.length)},
      (label) => `${label}: apply`,
      async ({label, target, run, report}) => {
        const b = bastions.find((x) => x.name === label) as ResolvedBastion
        report('reading vendor accounts')
        const drift = hostDrift(b, await observeHost(label, run))
        const changes = planChanges(drift, {prune})
        if (dryRun || changes.length === 0) return {drift, changes: changes.map((c) => reportOf(c, 'planned'))}
        report(`making ${changes.length} change(s)`)
        return {drift, changes: await executeHost(label, run, changes, today, target.user)}
      },
    )

    const out: ApplyBastion[] = []
    for (const b of bastions) {
      const o = outcomes.find((x) => x.host === b.name)
      const t = targets.get(b.name)
      const a = await allowlists.get(b.name)
      const hostChanges = o?.ok ? o.value.changes.map((c) => (dryRun || c.status !== 'planned' ? c : {...c, status: 'unchanged' as const})) : []
      const drift: Drift[] = [...(o?.ok ? o.value.drift : []), ...(a && 'drift' in a ? a.drift : [])]
      const error = o ? (o.ok ? undefined : o.error.toJSON()) : unreachable.get(b.name)
      const allowlistError = a && 'error' in a ? a.error : undefined
      const changes = [...hostChanges, ...(a && 'changes' in a ? a.changes : [])]
      out.push({
        bastion: b.name,
        ...(t ? {host: `${t.user}@${t.hostName}:${t.port}`} : {}),
        ...(a && 'firewall' in a && a.firewall ? {firewall: a.firewall} : {}),
        ok: !error && !allowlistError && !changes.some((c) => c.status === 'failed'),
        ...(error ? {error} : {}),
        ...(allowlistError ? {allowlistError} : {}),
        changes,
        untouched: untouched(drift, {prune}).map((d) => untouchedLine(d).trim()),
      })
    }
    const all = out.flatMap((b) => b.changes)
    const result: ApplyResult = {
      dryRun,
      prune,
      file: loaded.file,
      ok: out.every((b) => b.ok),
      summary: {
        bastions: out.length,
        changes: all.length,
        done: all.filter((c) => c.status === 'done').length,
        unchanged: all.filter((c) => c.status === 'unchanged').length,
        failed: all.filter((c) => c.status === 'failed').length,
      },
      bastions: out,
    }
    if (!result.ok) process.exitCode = Exit.FAILED
    this.show(() => this.render(result))
    return result
  }

  /** Observe a cloud bastion's allowlist, reconcile it, and (unless dry run) change it. */
  private async allowlist(
    b: ResolvedBastion,
    opts: {dryRun: boolean; prune: boolean},
  ): Promise<{drift: Drift[]; changes: ChangeReport[]; firewall: string} | {error: ErrorJson}> {
    let view: WhitelistView
    try {
      view = await observeAllowlist(b)
    } catch (error) {
      return {error: asBastionError(error).toJSON()}
    }
    const drift = allowlistDrift(b, view.rules)
    const planned = planChanges(drift, opts)
    if (opts.dryRun || planned.length === 0) return {drift, changes: planned.map((c) => reportOf(c, 'planned')), firewall: view.securityGroupId}
    return {drift, changes: await executeAllowlist(b, planned), firewall: view.securityGroupId}
  }

  private render(result: ApplyResult): string {
    const s = this.out
    if (result.dryRun) {
      const diffs: BastionDiff[] = result.bastions.map((b) => ({
        bastion: b.bastion,
        ...(b.host ? {host: b.host} : {}),
        ...(b.firewall ? {firewall: b.firewall} : {}),
        changes: b.changes,
        untouched: b.untouched,
        errors: [b.error, b.allowlistError].filter((e): e is ErrorJson => e !== undefined).map((e) => e.message),
      }))
      return `${renderDiff(diffs, s)} (dry run: nothing was changed)`
    }
    const lines: string[] = []
    for (const b of result.bastions) {
      lines.push(s.bold(`${inert(b.bastion)}${b.host ? s.dim(`  (${inert(b.host)})`) : ''}`))
      for (const e of [b.error, b.allowlistError]) {
        if (!e) continue
        lines.push(`  ${s.bad('✖')} ${inert(e.message)}`)
        for (const sug of e.suggestions) lines.push(`      ${s.dim('fix:')} ${inert(sug)}`)
      }
      for (const c of b.changes) {
        const mark = c.status === 'done' ? s.ok('done') : c.status === 'failed' ? s.bad('FAILED') : s.dim(c.status)
        lines.push(`  ${paintDiffLine(s, c.text)}  ${mark}${c.error ? `: ${inert(c.error.message)}` : ''}`)
      }
      for (const u of b.untouched) lines.push(s.dim(`  ${inert(u)}`))
      if (b.changes.length === 0 && !b.error && !b.allowlistError) lines.push(s.dim('  in step with the file'))
      lines.push('')
    }
    const m = result.summary
    const line = `apply: ${m.bastions} bastion(s), ${m.done} change(s) made, ${m.unchanged} already so, ${m.failed} failed`
    lines.push(result.ok ? s.ok(line) : s.bad(line))
    return lines.join('\n')
  }
}
