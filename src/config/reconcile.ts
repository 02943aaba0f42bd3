/**
 * The config file against what a bastion has, pure: the drift between them (what doctor --config reports) and the
 * changes that converge the bastion to the file (what apply does, and what apply --dry-run prints as a `+`/`-`/`~`
 * diff per host and per rule). The facts come from list-vendor-keys' script (the vendor accounts and their key lines)
 * and the cloud's whitelist view (the rules in front of the SSH port).
 *
 * Ownership decides what may change: a key line carries bastion's tag (`bastion:vendor=…`) or it does not, a rule's
 * description says `bastion:vendor=…` or it does not. Lines and rules bastion does not own are reported (unmanaged)
 * and never touched; bastion-owned ones the file does not list are stale, removed only with --prune.
 */
import type {ListedKey, ListResult} from '../access/service.js'
import type {WhitelistRule} from '../cloud/provider.js'
import {inert} from '../ui/inert.js'
import type {Style} from '../ui/style.js'
import {expiresOf, type ResolvedBastion, type ResolvedKey, type ResolvedVendor} from './resolve.js'

/** What a vendor's key line grants: where to (permitopen), from where (from=), until when (expiry-time). */
export interface KeyGrant {
  permitOpen: string[]
  from: string[]
  expiryTime?: string
}

export interface KeyRef {
  /** The Linux user whose authorized_keys holds the line. */
  user: string
  /** The vendor in the file (or the owner tag's vendor). */
  vendor: string
  fingerprint: string
  /** e.g. `ED25519 hevo@prod`, for people. */
  label: string
}

export type Drift =
  /** The file lists the vendor on this bastion; the host has no account for it. */
  | {kind: 'vendor-missing'; vendor: string; user: string}
  /** The file lists the key; the vendor's account does not hold it. */
  | {kind: 'key-missing'; key: KeyRef; want: KeyGrant; source: ResolvedKey}
  /** The key is there, bastion-owned, with other permitopen / from / expiry than the file says. */
  | {kind: 'key-options'; key: KeyRef; have: KeyGrant; want: KeyGrant; source: ResolvedKey}
  /** The key is there but not on a bastion-owned line: bastion will not change it. */
  | {kind: 'key-not-owned'; key: KeyRef}
  /** A bastion-owned key line the file does not list (for this bastion): --prune removes it. */
  | {kind: 'key-stale'; key: KeyRef; have: KeyGrant; alsoUnowned?: boolean}
  /** A key line bastion does not own, in an account the file or bastion manages: never touched. */
  | {kind: 'key-unmanaged'; key: KeyRef}
  /** The file admits the vendor from this CIDR; no rule does. */
  | {kind: 'rule-missing'; vendor: string; cidr: string}
  /** A rule bastion wrote for a vendor (description bastion:vendor=…) the file does not list: --prune removes it. */
  | {kind: 'rule-stale'; vendor: string; cidr: string; id?: string}
  /** A rule in front of the SSH port bastion did not write: never touched. */
  | {kind: 'rule-unmanaged'; cidr: string; description: string; id?: string}

export type ChangeOp = '+' | '-' | '~'

export type Change =
  | {target: 'host'; op: '+' | '~'; vendor: string; user: string; key: ResolvedKey; grant: KeyGrant; was?: KeyGrant; fingerprint: string; label: string}
  | {target: 'host'; op: '-'; vendor: string; user: string; fingerprint: string; label: string; was: KeyGrant}
  | {target: 'allowlist'; op: '+' | '-'; vendor: string; cidr: string}

/** The grant the file asks for a vendor's key. */
export function wantedGrant(vendor: ResolvedVendor, key: ResolvedKey): KeyGrant {
  return {
    permitOpen: vendor.databases.map((d) => d.target.text),
    from: [...vendor.from],
    ...(key.expiryTime ? {expiryTime: key.expiryTime} : {}),
  }
}

/** The grant a listed key line carries. */
export function grantOf(key: ListedKey): KeyGrant {
  const expiry = key.options.find((o) => o.name === 'expiry-time')?.value
  return {
    permitOpen: key.options.filter((o) => o.name === 'permitopen' && o.value !== undefined).map((o) => o.value as string),
    from: key.options.filter((o) => o.name === 'from' && o.value !== undefined).flatMap((o) => (o.value as string).split(',')),
    ...(expiry ? {expiryTime: expiry} : {}),
  }
}

const sameSet = (a: string[], b: string[]) => a.length === b.length && [...a].sort().join('\n') === [...b].sort().join('\n')

/** The same grant (order of permitopen and from entries does not matter). */
export function sameGrant(a: KeyGrant, b: KeyGrant): boolean {
  return sameSet(a.permitOpen, b.permitOpen) && sameSet(a.from, b.from) && (a.expiryTime ?? '') === (b.expiryTime ?? '')
}

function keyLabel(type: string | undefined, comment: string | undefined): string {
  return [type, comment].filter((s) => s !== undefined && s !== '').join(' ')
}

/**
 * The drift of one bastion's host: its accounts and key lines (`listed`: the list script's facts for every account
 * bastion manages) against the vendors the file puts on it.
 */
export function hostDrift(bastion: ResolvedBastion, listed: ListResult): Drift[] {
  const out: Drift[] = []
  const wantedUsers = new Set(bastion.vendors.map((v) => v.user))
  for (const v of bastion.vendors) {
    const account = listed.accounts.find((a) => a.name === v.user)
    if (!account) out.push({kind: 'vendor-missing', vendor: v.name, user: v.user})
    const lines = account?.keys ?? []
    for (const k of v.keys) {
      const ref: KeyRef = {user: v.user, vendor: v.name, fingerprint: k.key.fingerprint, label: keyLabel(k.key.algorithm, k.key.comment)}
      const want = wantedGrant(v, k)
      const owned = lines.filter((l) => l.kind === 'key' && l.fingerprint === k.key.fingerprint && l.owned)
      const others = lines.filter((l) => l.kind === 'key' && l.fingerprint === k.key.fingerprint && !l.owned)
      if (owned.length === 0 && others.length > 0) out.push({kind: 'key-not-owned', key: ref})
      else if (owned.length === 0) out.push({kind: 'key-missing', key: ref, want, source: k})
      else {
        const have = grantOf(owned[0] as ListedKey)
        if (!sameGrant(have, want)) out.push({kind: 'key-options', key: ref, have, want, source: k})
      }
    }
  }
  for (const account of listed.accounts) {
    const vendor = bastion.vendors.find((v) => v.user === account.name)
    const listedFps = new Set(vendor?.keys.map((k) => k.key.fingerprint) ?? [])
    for (const line of account.keys) {
      if (line.kind !== 'key' || !line.fingerprint) continue
      if (listedFps.has(line.fingerprint)) continue
      const ref: KeyRef = {user: account.name, vendor: vendor?.name ?? account.name, fingerprint: line.fingerprint, label: keyLabel(line.algorithm, line.comment)}
      // removal goes by fingerprint: a line bastion does not own with the same key would go too, so such a key is kept
      const alsoUnowned = account.keys.some((l) => !l.owned && l.fingerprint === line.fingerprint)
      if (line.owned) out.push({kind: 'key-stale', key: ref, have: grantOf(line), ...(alsoUnowned ? {alsoUnowned} : {})})
      else if (wantedUsers.has(account.name) || account.keys.some((l) => l.owned)) out.push({kind: 'key-unmanaged', key: ref})
    }
  }
  return out
}

/** The drift of a cloud bastion's allowlist: the rules in front of its SSH port against the vendors' CIDRs. */
export function allowlistDrift(bastion: ResolvedBastion, rules: WhitelistRule[]): Drift[] {
  const out: Drift[] = []
  const wanted = bastion.allowlist ?? []
  for (const w of wanted)
    for (const cidr of w.cidrs)
      if (!rules.some((r) => r.role === 'vendor' && r.vendor === w.vendor && r.cidr === cidr)) out.push({kind: 'rule-missing', vendor: w.vendor, cidr})
  for (const r of rules) {
    if (r.role === 'admin') continue
    if (r.role === 'unmanaged') {
      out.push({kind: 'rule-unmanaged', cidr: r.cidr, description: r.description, ...(r.id ? {id: r.id} : {})})
      continue
    }
    const w = wanted.find((x) => x.vendor === r.vendor)
    if (!w || !w.cidrs.includes(r.cidr)) out.push({kind: 'rule-stale', vendor: r.vendor ?? '', cidr: r.cidr, ...(r.id ? {id: r.id} : {})})
  }
  return out
}

/** The changes that converge the bastion to the file; stale lines and rules go only with `prune`. Never unmanaged ones. */
export function planChanges(drift: Drift[], opts: {prune: boolean}): Change[] {
  const out: Change[] = []
  for (const d of drift) {
    switch (d.kind) {
      case 'key-missing':
        out.push({target: 'host', op: '+', vendor: d.key.vendor, user: d.key.user, key: d.source, grant: d.want, fingerprint: d.key.fingerprint, label: d.key.label})
        break
      case 'key-options':
        out.push({target: 'host', op: '~', vendor: d.key.vendor, user: d.key.user, key: d.source, grant: d.want, was: d.have, fingerprint: d.key.fingerprint, label: d.key.label})
        break
      case 'key-stale':
        if (opts.prune && !d.alsoUnowned) out.push({target: 'host', op: '-', vendor: d.key.vendor, user: d.key.user, fingerprint: d.key.fingerprint, label: d.key.label, was: d.have})
        break
      case 'rule-missing':
        out.push({target: 'allowlist', op: '+', vendor: d.vendor, cidr: d.cidr})
        break
      case 'rule-stale':
        if (opts.prune) out.push({target: 'allowlist', op: '-', vendor: d.vendor, cidr: d.cidr})
        break
      default:
        break
    }
  }
  return out
}

/** What is left alone, for the diff: stale entries without --prune, and everything bastion does not own. */
export function untouched(drift: Drift[], opts: {prune: boolean}): Drift[] {
  return drift.filter(
    (d) =>
      d.kind === 'key-unmanaged' ||
      d.kind === 'key-not-owned' ||
      d.kind === 'rule-unmanaged' ||
      (d.kind === 'key-stale' && (!opts.prune || d.alsoUnowned === true)) ||
      (!opts.prune && d.kind === 'rule-stale'),
  )
}

export function describeGrant(g: KeyGrant): string {
  const parts = [`permitopen ${g.permitOpen.join(',') || '(none)'}`, `from ${g.from.length > 0 ? g.from.join(',') : '(anywhere)'}`]
  parts.push(g.expiryTime ? `expires ${expiresOf(g.expiryTime)}` : 'no expiry')
  return parts.join('  ')
}

/** What differs between two grants, e.g. `from 1.2.3.4/32 → 5.6.7.0/29`. */
export function grantDelta(was: KeyGrant, now: KeyGrant): string {
  const out: string[] = []
  if (!sameSet(was.permitOpen, now.permitOpen)) out.push(`permitopen ${was.permitOpen.join(',') || '(none)'} → ${now.permitOpen.join(',') || '(none)'}`)
  if (!sameSet(was.from, now.from)) out.push(`from ${was.from.join(',') || '(anywhere)'} → ${now.from.join(',') || '(anywhere)'}`)
  if ((was.expiryTime ?? '') !== (now.expiryTime ?? ''))
    out.push(`expires ${was.expiryTime ? expiresOf(was.expiryTime) : '(never)'} → ${now.expiryTime ? expiresOf(now.expiryTime) : '(never)'}`)
  return out.join('; ')
}

/** One change as a diff line (without the leading indentation). */
export function changeLine(c: Change): string {
  if (c.target === 'allowlist') return `${c.op} rule ${c.vendor} ${c.cidr}`
  const who = `${c.user} key ${c.fingerprint}${c.label ? ` (${c.label})` : ''}`
  if (c.op === '+') return `+ ${who}  ${describeGrant(c.grant)}`
  if (c.op === '~') return `~ ${who}  ${grantDelta(c.was ?? c.grant, c.grant)}`
  return `- ${who}  (bastion-owned, not in the file)`
}

/** A drift entry left alone, as a note line. */
export function untouchedLine(d: Drift): string {
  switch (d.kind) {
    case 'key-stale':
      return d.alsoUnowned
        ? `  ${d.key.user} key ${d.key.fingerprint} is bastion-owned and not in the file, but a line bastion does not own holds it too: kept`
        : `  ${d.key.user} key ${d.key.fingerprint} is bastion-owned and not in the file: kept (--prune removes it)`
    case 'rule-stale':
      return `  rule ${d.vendor} ${d.cidr} was written by bastion and is not in the file: kept (--prune removes it)`
    case 'key-unmanaged':
      return `  ${d.key.user} key ${d.key.fingerprint} is not bastion's line: never touched`
    case 'key-not-owned':
      return `  ${d.key.user} key ${d.key.fingerprint} is in the file but on a line bastion does not own: never touched`
    case 'rule-unmanaged':
      return `  rule ${d.cidr} (${d.description || 'no description'}) was not written by bastion: never touched`
    default:
      return ''
  }
}

export interface BastionDiff {
  bastion: string
  /** Where the host was reached, when it was. */
  host?: string
  /** The firewall the rules live in (security group id …), for a cloud bastion. */
  firewall?: string
  /** The diff lines (changeLine) of the host's and the allowlist's changes. */
  changes: {target: Change['target']; text: string}[]
  /** What is left alone (untouchedLine). */
  untouched: string[]
  /** Why the host or its allowlist could not be read. */
  errors: string[]
}

/** `+` green, `-` red, `~` yellow. */
export function paintDiffLine(s: Style, line: string): string {
  const t = inert(line)
  return t.startsWith('+') ? s.ok(t) : t.startsWith('-') ? s.bad(t) : t.startsWith('~') ? s.warn(t) : t
}

/** The readable diff of a plan: per bastion, its host's changes, then its allowlist's; `+` add, `-` remove, `~` update. */
export function renderDiff(diffs: BastionDiff[], s: Style): string {
  const out: string[] = []
  for (const d of diffs) {
    out.push(s.bold(`${inert(d.bastion)}${d.host ? s.dim(`  (${inert(d.host)})`) : ''}`))
    for (const c of d.changes.filter((x) => x.target === 'host')) out.push(`  ${paintDiffLine(s, c.text)}`)
    const rules = d.changes.filter((x) => x.target === 'allowlist')
    if (rules.length > 0) {
      out.push(`  allowlist${d.firewall ? s.dim(` (${inert(d.firewall)})`) : ''}`)
      for (const c of rules) out.push(`    ${paintDiffLine(s, c.text)}`)
    }
    for (const u of d.untouched) out.push(s.dim(`  ${inert(u.trim())}`))
    for (const e of d.errors) out.push(`  ${s.bad('✖')} ${inert(e)}`)
    if (d.changes.length === 0 && d.errors.length === 0) out.push(s.dim('  no changes'))
    out.push('')
  }
  const total = diffs.reduce((n, d) => n + d.changes.length, 0)
  out.push(`${total} change(s) on ${diffs.length} bastion(s)`)
  return out.join('\n')
}
