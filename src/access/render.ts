/**
 * Human-readable results of the vendor commands (stdout). JSON output is the result objects themselves.
 * Everything read from a host (names, paths, shells, key lines, remote messages) goes through inert() before it is shown.
 */
import type {MultiHostResult} from '../ssh/pool.js'
import {inert} from '../ui/inert.js'
import {failedHost, okHost, scriptLines, type ErrorRenderer} from '../ui/hosts.js'
import type {Style} from '../ui/style.js'
import type {AddResult, ListResult, ListedKey, RemoveResult} from './service.js'

interface KeySummary {
  type: string
  bits: number
  algorithm: string
  fingerprint: string
  comment: string
}

interface AddCommon {
  vendor: string
  key: KeySummary
  line: string
  expires?: string
  warnings: string[]
}

export type AddVendorKeyResult =
  | (AddCommon & {dryRun: true; hosts: string[]; script: string})
  | (AddCommon & {dryRun: false} & MultiHostResult<AddResult & {vendorForm: {sshHost: string; sshPort: number; sshUser: string}}>)

export function renderAddHuman(result: AddVendorKeyResult, s: Style, renderError?: ErrorRenderer): string {
  const out: string[] = []
  const k = result.key
  if (result.dryRun) {
    out.push(s.bold(`Plan (dry run: nothing was sent to ${result.hosts.join(', ')})`))
    out.push(`  vendor user and group: ${result.vendor} (created if missing; shell /usr/sbin/nologin; ~/.ssh 0700, authorized_keys 0600)`)
    out.push(`  key: ${k.bits} ${k.fingerprint} ${k.comment ? `${inert(k.comment)} ` : ''}(${k.algorithm})`)
    out.push('  authorized_keys line:')
    out.push(`    ${inert(result.line)}`)
    out.push(...scriptLines(result.script, s))
    return out.join('\n')
  }
  for (const h of result.hosts) {
    if (!h.ok || !h.result) {
      out.push(...failedHost(h, renderError))
      continue
    }
    const r = h.result
    const verb = r.key.status === 'added' ? 'added' : r.key.status === 'updated' ? 'updated in place' : 'already present, unchanged'
    out.push(okHost(h.host, s, r.os))
    out.push(
      `    user ${inert(r.vendor)}: ${r.user === 'created' ? 'created' : 'exists'} (uid ${r.uid}, group ${r.group === 'created' ? 'created' : 'exists'}, shell ${inert(r.shell)})`,
    )
    if (r.adoptedNow) out.push(`    ${s.warn('adopted:')} the existing account ${inert(r.vendor)} is now managed by bastion (recorded on the host; its shell stays, the key runs no command)`)
    if (r.shellChanged) out.push(`    shell changed: ${inert(r.shellChanged.from)} → ${inert(r.shellChanged.to)}`)
    if (r.unlocked) out.push('    account unlocked for key login (password login stays impossible)')
    if (r.homeCreated) out.push(`    home ${inert(r.home)} created`)
    if (r.sshDir === 'created') out.push(`    ${inert(r.home)}/.ssh created (0700)`)
    for (const rep of r.repairs) out.push(`    repaired ${inert(rep.path)}: ${inert(rep.what)} ${inert(rep.from)} → ${inert(rep.to)}`)
    for (const c of r.cleaned) out.push(`    removed leftover temporary file ${inert(c)}`)
    out.push(`    key ${k.fingerprint} (${k.algorithm} ${k.bits}): ${verb}`)
    if (r.key.duplicatesRemoved > 0) out.push(`    removed ${r.key.duplicatesRemoved} duplicate line(s) of the same key`)
    for (const w of r.warnings) out.push(`    ${s.warn('warning:')} ${inert(w)}`)
  }
  const ok = result.hosts.filter((h) => h.ok && h.result)
  const first = ok[0]?.result
  if (first) {
    out.push('')
    out.push(s.bold('For the vendor\'s "SSH tunnel" form:'))
    const forms = new Set(ok.map((h) => `${h.result?.vendorForm.sshHost}:${h.result?.vendorForm.sshPort}`))
    for (const h of ok) {
      const f = h.result!.vendorForm
      if (forms.size > 1) out.push(`  ${inert(h.host)}:`)
      out.push(`  SSH host: ${inert(f.sshHost)}`)
      out.push(`  SSH port: ${f.sshPort}`)
      out.push(`  SSH user: ${inert(f.sshUser)}`)
      if (forms.size <= 1) break
    }
    out.push(`  Database (host:port in the form): ${inert(result.line.match(/permitopen="([^"]+)"/)?.[1] ?? '')}`)
  }
  const failed = result.hosts.length - ok.length
  out.push('')
  out.push(failed === 0 ? `${ok.length} host(s) ready.` : s.bad(`${failed} of ${result.hosts.length} host(s) failed.`))
  return out.join('\n')
}

export type RemoveVendorKeyResult =
  | {dryRun: true; vendor: string; hosts: string[]; script: string; plan: Record<string, unknown>}
  | ({dryRun: false; vendor: string} & MultiHostResult<RemoveResult>)

export function renderRemoveHuman(result: RemoveVendorKeyResult, s: Style, renderError?: ErrorRenderer): string {
  const out: string[] = []
  if (result.dryRun) {
    out.push(s.bold(`Plan (dry run: nothing was sent to ${result.hosts.join(', ')})`))
    for (const [k, v] of Object.entries(result.plan)) out.push(`  ${k}: ${Array.isArray(v) ? v.join(', ') || '-' : String(v)}`)
    out.push(...scriptLines(result.script, s))
    return out.join('\n')
  }
  for (const h of result.hosts) {
    if (!h.ok || !h.result) {
      out.push(...failedHost(h, renderError))
      continue
    }
    const r = h.result
    out.push(okHost(h.host, s))
    if (r.user === 'absent') out.push(`    user ${inert(r.vendor)} does not exist: nothing to remove`)
    for (const k of r.removed) out.push(`    removed ${inert(k.fingerprint)}${k.owned ? '' : s.warn(' (a line bastion did not write)')}`)
    for (const fp of r.notFound) out.push(`    ${s.warn('not found:')} ${inert(fp)}`)
    if (r.removed.length === 0 && r.file !== 'untouched' && r.notFound.length === 0 && r.user !== 'absent') out.push('    no key lines to remove')
    const keptOwned = r.kept.filter((k) => k.owned).length
    const keptForeign = r.kept.length - keptOwned
    if (r.kept.length > 0) out.push(`    kept ${r.kept.length} other key line(s)${keptForeign ? ` (${keptForeign} not written by bastion)` : ''}`)
    if (r.sessionsKilled) out.push("    ended the vendor's running sessions")
    if (r.user === 'deleted') out.push(`    user ${inert(r.vendor)} and its home deleted${r.group === 'deleted' ? `; group ${inert(r.vendor)} deleted` : ''}`)
    if (r.group === 'kept') out.push(`    group ${inert(r.vendor)} kept (still in use)`)
    if (r.group === 'kept-not-ours') out.push(`    group ${inert(r.vendor)} kept (bastion did not create it)`)
    for (const w of r.warnings) out.push(`    ${s.warn('warning:')} ${inert(w)}`)
  }
  const failed = result.hosts.filter((h) => !h.ok).length
  out.push('')
  out.push(failed === 0 ? `${result.hosts.length} host(s) done.` : s.bad(`${failed} of ${result.hosts.length} host(s) failed.`))
  return out.join('\n')
}

export type ListVendorKeysResult = MultiHostResult<ListResult>

/** `20270630` → `2027-06-30`, `202706301800` → `2027-06-30 18:00` (sshd reads it in the host's time zone). */
export function formatExpiry(value: string): string {
  const m = /^(\d{4})(\d{2})(\d{2})(?:(\d{2})(\d{2})(\d{2})?)?(Z?)$/.exec(value)
  if (!m) return value
  const [, y, mo, d, h, mi, sec, z] = m
  return `${y}-${mo}-${d}${h ? ` ${h}:${mi}${sec ? `:${sec}` : ''}` : ''}${z ? ' UTC' : ''}`
}

function optionsText(k: ListedKey): string {
  return k.options.map((o) => (o.value === undefined ? inert(o.name) : `${inert(o.name)}="${inert(o.value)}"`)).join(',')
}

export function renderListHuman(result: ListVendorKeysResult, s: Style, renderError?: ErrorRenderer): string {
  const out: string[] = []
  for (const h of result.hosts) {
    if (!h.ok || !h.result) {
      out.push(...failedHost(h, renderError))
      continue
    }
    out.push(s.bold(inert(h.host)))
    if (h.result.accounts.length === 0 && h.result.absent.length === 0) out.push('  no vendor accounts managed by bastion')
    for (const name of h.result.absent) out.push(`  ${inert(name)}: ${s.warn('no such user')}`)
    for (const a of h.result.accounts) {
      const lock = a.locked === 'yes' ? s.warn(' locked') : a.locked === 'empty' ? s.warn(' no-password') : ''
      out.push(`  ${s.bold(inert(a.name))} (uid ${a.uid}, group ${inert(a.group)}, shell ${inert(a.shell)}${lock})`)
      if (a.keyFileUnsafe) {
        out.push(`    ${s.bad('not read:')} ${inert(a.keyFileUnsafe)} (bastion reads nothing through a link; look at it with ls -la)`)
        continue
      }
      if (!a.keyFile) {
        out.push(`    no ${inert(a.home)}/.ssh/authorized_keys`)
        continue
      }
      if (a.keys.length === 0) out.push('    no keys')
      for (const k of a.keys) {
        if (k.kind === 'invalid') {
          out.push(`    line ${k.line}: ${s.bad('invalid')} ${k.problems.map(inert).join('; ')}`)
          continue
        }
        const exp = k.expiry
          ? k.expiry.expired
            ? s.bad(` EXPIRED ${inert(formatExpiry(k.expiry.value))}`)
            : ` expires ${inert(formatExpiry(k.expiry.value))}`
          : ''
        const own = k.owned ? s.ok(' [bastion]') : s.dim(' [not bastion]')
        out.push(`    ${inert(k.algorithm ?? '')} ${k.bits} ${inert(k.fingerprint ?? '')}${k.comment ? ` ${inert(k.comment)}` : ''}${own}${exp}`)
        const opts = optionsText(k)
        out.push(`      options: ${opts || s.warn('none (unrestricted: shell and any forwarding)')}`)
        for (const p of k.problems) out.push(`      ${s.warn('problem:')} ${inert(p)}`)
      }
    }
  }
  return out.join('\n')
}
