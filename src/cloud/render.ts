/**
 * Human-readable results of the cloud commands (stdout). JSON output is the result objects themselves.
 * Names, tags, ids, rule descriptions and what the instance's console said come from outside: shown through inert().
 */
import {inert} from '../ui/inert.js'
import type {Style} from '../ui/style.js'
import type {BastionInfo, CreateDryRun, CreateResult, DestroyResult, PlannedChange, RuleProblem, Step, WhitelistChange, WhitelistRule} from './provider.js'
import {cloudTitle} from './registry.js'

/** "on AWS (eu-west-1)". */
function where(cloud: string, region: string | undefined): string {
  return `on ${inert(cloudTitle(cloud))}${region ? ` (${inert(region)})` : ''}`
}

function stepMark(s: Step, st: Style): string {
  switch (s.status) {
    case 'created':
    case 'deleted':
    case 'updated':
      return st.ok('+')
    case 'failed':
      return st.bad('✖')
    case 'skipped':
      return st.dim('·')
    case 'ok':
      return st.ok('✔')
    default:
      return st.dim('=')
  }
}

export function renderCreateHuman(r: CreateResult, s: Style): string {
  const out: string[] = []
  const created = r.steps.filter((x) => x.status === 'created').length
  out.push(`${s.ok('✔')} ${s.bold(`bastion ${inert(r.name)}`)} ${where(r.cloud, r.region)}: ${created > 0 ? `${created} resource(s) created` : 'everything was there already'}`)
  for (const step of r.steps) out.push(`  ${stepMark(step, s)} ${inert(step.detail)}`)
  const hk = r.hostKeys
  if (hk.status === 'recorded' || hk.status === 'present') {
    out.push(`  ${s.ok('✔')} SSH host keys: ${inert(hk.note)}`)
    for (const k of hk.keys) out.push(`      ${inert(k.type)} ${inert(k.fingerprint)}`)
  } else {
    out.push(`  ${s.warn('!')} SSH host keys: ${inert(hk.note)}`)
  }
  if (r.bootstrap.status !== 'absent') {
    const v = r.vendorSetup
    out.push(
      `  ${r.bootstrap.status === 'failed' ? s.bad('✖') : s.ok('✔')} user-data: ${r.bootstrap.status}` +
        (v ? `; vendor user ${inert(v.vendor)} ${v.user === 'created' ? 'created' : 'present'} (uid ${v.uid}), key ${inert(v.key.status)}` : ''),
    )
  }
  for (const w of r.warnings) out.push(`${s.warn('warning:')} ${inert(w)}`)
  if (r.vendorForm) {
    out.push('')
    out.push(s.bold(`For ${inert(r.vendorForm.sshUser)}'s "SSH tunnel" form:`))
    out.push(`  SSH host: ${inert(r.vendorForm.sshHost)}`)
    out.push(`  SSH port: ${r.vendorForm.sshPort}`)
    out.push(`  SSH user: ${inert(r.vendorForm.sshUser)}`)
    if (r.vendorForm.database) out.push(`  Database (host:port in the form): ${inert(r.vendorForm.database)}`)
  }
  if (r.admin) {
    out.push('')
    out.push(`Admin login: ${inert(r.admin.ssh)}`)
  }
  return out.join('\n')
}

function changeMark(c: PlannedChange, st: Style): string {
  return c.change === 'create' ? st.ok('+') : c.change === 'update' ? st.warn('~') : st.dim('=')
}

/** create --dry-run with credentials: each resource as create would leave it, compared with what exists. */
export function renderPreviewHuman(r: CreateDryRun & {changes: PlannedChange[]}, s: Style): string {
  const out: string[] = [s.bold(`Plan for bastion ${inert(r.name)} ${where(r.cloud, r.region)} — dry run: compared with what exists, nothing was changed`), '']
  for (const c of r.changes) {
    out.push(`  ${changeMark(c, s)} ${inert(c.detail)}`)
    for (const item of c.items ?? []) out.push(`      + ${inert(item)}`)
  }
  out.push('', r.changes.every((c) => c.change === 'keep') ? 'Everything exists as asked: create would change nothing.' : 'Without --dry-run, create makes the + and ~ changes; what is marked = stays as it is.')
  for (const w of r.warnings) out.push(`${s.warn('warning:')} ${inert(w)}`)
  return out.join('\n')
}

export function renderDestroyHuman(r: DestroyResult, s: Style): string {
  if (r.nothingFound) return `Nothing tagged bastion:name=${inert(r.name)} ${where(r.cloud, r.region)}: nothing to destroy.`
  const out: string[] = []
  out.push(r.dryRun ? s.bold(`Plan (dry run): destroy bastion ${inert(r.name)}`) : `${s.ok('✔')} ${s.bold(`bastion ${inert(r.name)}`)} destroyed`)
  for (const step of r.steps) out.push(`  ${stepMark(step, s)} ${inert(step.detail)}`)
  if (!r.dryRun && r.publicIps.length > 0)
    out.push('', `Its host keys stay in known_hosts; remove them with: ${r.publicIps.map((ip) => `ssh-keygen -R ${inert(ip)}`).join('; ')}`)
  return out.join('\n')
}

export function renderListHuman(list: BastionInfo[], s: Style, place: {cloud?: string; region?: string} = {}): string {
  if (list.length === 0)
    return `No bastions${place.cloud ? ` on ${inert(cloudTitle(place.cloud))}` : ''}${place.region ? ` in ${inert(place.region)}` : ''} (nothing tagged managed-by=bastion).`
  const rows = list.map((b) => [
    b.name,
    b.state,
    b.address.publicIp ? `${b.address.publicIp}${b.address.stable ? '' : ' (not stable)'}` : '-',
    b.instanceType ?? '-',
    b.vendors.map((v) => `${v.vendor} (${v.cidrs.length})`).join(', ') || '-',
  ].map(inert))
  const head = ['NAME', 'STATE', 'ADDRESS', 'TYPE', 'VENDORS (rules)']
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)))
  const line = (cols: string[]) => cols.map((c, i) => c.padEnd(widths[i] ?? 0)).join('  ').trimEnd()
  return [s.bold(line(head)), ...rows.map(line)].join('\n')
}

function ruleText(r: WhitelistRule): string {
  const ports = r.protocol === 'all' ? 'all traffic' : r.fromPort === r.toPort ? `${r.protocol} ${r.fromPort}` : `${r.protocol} ${r.fromPort}-${r.toPort}`
  return `${inert(r.cidr).padEnd(20)} ${inert(ports)}${r.id ? `  ${inert(r.id)}` : ''}`
}

export function renderWhitelistHuman(view: {name: string; rules: (WhitelistRule & {problems: RuleProblem[]})[]}, s: Style, vendor?: string): string {
  const rules = vendor ? view.rules.filter((r) => r.vendor === vendor) : view.rules
  if (rules.length === 0) return vendor ? `bastion ${inert(view.name)}: no rule for ${inert(vendor)}.` : `bastion ${inert(view.name)}: no inbound rule.`
  const groups = new Map<string, typeof rules>()
  for (const r of rules) {
    const key = r.role === 'vendor' ? `vendor ${inert(r.vendor ?? '')}` : r.role === 'admin' ? 'admin' : 'not written by bastion'
    groups.set(key, [...(groups.get(key) ?? []), r])
  }
  const out: string[] = [s.bold(`bastion ${inert(view.name)}: inbound rules`)]
  for (const [key, list] of groups) {
    out.push(`  ${key}:`)
    for (const r of list) {
      const bad = r.problems.filter((p) => p.code !== 'unmanaged')
      const mark = bad.some((p) => p.severity === 'fail') ? s.bad('✖') : bad.length > 0 ? s.warn('!') : s.ok('✔')
      out.push(`    ${mark} ${ruleText(r)}`)
      for (const p of bad) out.push(`        ${p.severity === 'fail' ? s.bad('too wide:') : s.warn('note:')} ${inert(p.message)}`)
    }
  }
  const flagged = rules.filter((r) => r.problems.some((p) => p.code !== 'unmanaged')).length
  out.push('', flagged === 0 ? 'No rule is wider than a vendor needs.' : s.warn(`${flagged} rule(s) flagged.`))
  return out.join('\n')
}

export function renderWhitelistChangeHuman(c: WhitelistChange, s: Style): string {
  const out: string[] = []
  const verb = c.dryRun ? 'would ' : ''
  out.push(s.bold(`bastion ${inert(c.name)} (${inert(c.securityGroupId)}), vendor ${inert(c.vendor)}${c.dryRun ? ' — dry run, nothing changed' : ''}`))
  for (const r of c.added) out.push(`  ${s.ok('+')} ${verb}admit ${inert(r.cidr)} on ${inert(r.protocol)} ${r.fromPort}`)
  for (const r of c.removed) out.push(`  ${s.bad('-')} ${verb}remove ${inert(r.cidr)} (${inert(r.protocol)} ${r.fromPort}${r.toPort !== r.fromPort ? `-${r.toPort}` : ''})`)
  for (const u of c.unchanged) out.push(`  = ${inert(u.cidr)}: already admitted by ${inert(u.by)}`)
  for (const n of c.notFound) out.push(`  ${s.warn('?')} ${inert(n)}: ${inert(c.vendor)} has no rule for it`)
  if (c.added.length + c.removed.length + c.unchanged.length + c.notFound.length === 0) out.push('  nothing to do')
  for (const w of c.warnings) out.push(`${s.warn('warning:')} ${inert(w)}`)
  return out.join('\n')
}
