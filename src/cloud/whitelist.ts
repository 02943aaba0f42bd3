/**
 * The whitelist in front of a bastion's SSH port, cloud-neutral and pure: which rule belongs to which vendor (the
 * rule's description says so), which addresses may be admitted, and which rules are wider than a vendor needs.
 *
 * "Too wide", as `whitelist list` and doctor judge it (widths as sourceWidth in input/parse.ts tells them):
 * - `anywhere` (fail): the rule admits 0.0.0.0/0 or ::/0, or an IPv4 prefix shorter than /8 or an IPv6 prefix shorter
 *   than /16 — the whole internet, or as good as, can knock on sshd;
 * - `wide` (warn): an IPv4 prefix shorter than /24 (more than 256 addresses) or an IPv6 prefix shorter than /64,
 *   or — when the expected vendor CIDRs are known — a rule that contains an expected CIDR but is larger than it
 *   ("wider than asked"). Vendors publish single addresses or small ranges (a /29, a /28) for their egress;
 * - `ports` (warn): the rule opens more than the SSH port (all traffic, or a port range around it);
 * - `unmanaged` (warn): the rule was not written by bastion (no `bastion:` description), so no vendor owns it.
 */
import ipaddr from 'ipaddr.js'
import {inputError} from '../errors.js'
import {checkSourceWidth, listValues, parseCidr, sourceWidth, WIDE_IPV4_PREFIX, WIDE_IPV6_PREFIX} from '../input/parse.js'
import type {RuleProblem, RuleRole, WhitelistRule} from './provider.js'

export {WIDE_IPV4_PREFIX, WIDE_IPV6_PREFIX}

const VENDOR_DESC = /^bastion:vendor=([a-z_][a-z0-9_-]{0,31})(?:\s|$)/
const ADMIN_DESC = /^bastion:admin(?:\s|$)/

/** The description bastion writes on a vendor's rule: `bastion:vendor=<vendor>`. */
export function vendorRuleDescription(vendor: string): string {
  return `bastion:vendor=${vendor}`
}

export const ADMIN_RULE_DESCRIPTION = 'bastion:admin'

/** Who a rule is for, read from its description. */
export function ruleOwner(description: string | undefined): {role: RuleRole; vendor?: string} {
  const d = (description ?? '').trim()
  const m = VENDOR_DESC.exec(d)
  if (m?.[1]) return {role: 'vendor', vendor: m[1]}
  if (ADMIN_DESC.test(d)) return {role: 'admin'}
  return {role: 'unmanaged'}
}

/** Exactly 0.0.0.0/0 or ::/0 (for the width rule, see sourceWidth). */
export function isAnywhere(cidr: string): boolean {
  return cidr === '0.0.0.0/0' || cidr === '::/0'
}

/** `cidr` as [address, prefix]; undefined when it is not a CIDR (e.g. a security group id). */
export function parseRange(cidr: string): [ipaddr.IPv4 | ipaddr.IPv6, number] | undefined {
  try {
    if (!cidr.includes('/')) {
      const a = ipaddr.parse(cidr)
      return [a, a.kind() === 'ipv4' ? 32 : 128]
    }
    return ipaddr.parseCIDR(cidr)
  } catch {
    return undefined
  }
}

/** Does `outer` contain every address of `inner`? (Both CIDRs; false for anything else.) */
export function cidrContains(outer: string, inner: string): boolean {
  const o = parseRange(outer)
  const i = parseRange(inner)
  if (!o || !i) return false
  const [oa, ob] = o
  const [ia, ib] = i
  if (oa.kind() !== ia.kind() || ob > ib) return false
  return ia.match([oa, ob] as never)
}

/** Do the two CIDRs share any address? */
export function cidrOverlaps(a: string, b: string): boolean {
  return cidrContains(a, b) || cidrContains(b, a)
}

/**
 * Validate the CIDRs a vendor (or the operator) is to be admitted from (repeatable, or comma-separated). Single
 * addresses become /32 (/128); CIDRs with host bits set are refused with the network meant; the width rule of
 * checkSourceWidth applies: anywhere-wide ranges are refused unless `allowAnywhere`, wide ones come with a warning.
 */
export function parseWhitelistCidrs(raw: string[], what: string, allowAnywhere: boolean): {cidrs: string[]; warnings: string[]} {
  const cidrs: string[] = []
  const warnings: string[] = []
  for (const r of raw) {
    for (const part of listValues([r])) {
      let cidr = parseCidr(part, what)
      if (!cidr.includes('/')) cidr = `${cidr}/${cidr.includes(':') ? 128 : 32}`
      if (cidrs.includes(cidr)) continue
      const warning = checkSourceWidth(cidr, what, allowAnywhere)
      if (warning) warnings.push(warning)
      cidrs.push(cidr)
    }
  }
  return {cidrs, warnings}
}

/** What is wrong with one rule in front of the SSH port (empty: nothing). `expected`: the CIDRs that were asked for. */
export function judgeRule(rule: WhitelistRule, opts: {sshPort: number; expected?: string[]}): RuleProblem[] {
  const problems: RuleProblem[] = []
  const reachesSsh = rule.protocol === 'all' || (rule.protocol === 'tcp' && rule.fromPort <= opts.sshPort && rule.toPort >= opts.sshPort)
  if (!reachesSsh) return problems
  const width = sourceWidth(rule.cidr)
  if (width?.kind === 'anywhere') {
    problems.push({code: 'anywhere', severity: 'fail', message: `${rule.cidr} admits ${width.size} to port ${opts.sshPort}`})
  } else {
    const limit = rule.cidr.includes(':') ? WIDE_IPV6_PREFIX : WIDE_IPV4_PREFIX
    const widerThanAsked = (opts.expected ?? []).filter((e) => e !== rule.cidr && cidrContains(rule.cidr, e))
    if (widerThanAsked.length > 0) {
      problems.push({code: 'wide', severity: 'warn', message: `${rule.cidr} is wider than asked (${widerThanAsked.join(', ')})`})
    } else if (width?.kind === 'wide') {
      problems.push({
        code: 'wide',
        severity: 'warn',
        message: `${rule.cidr} admits ${width.size}; vendors publish single addresses or small ranges (flagged below /${limit})`,
      })
    }
  }
  if (rule.protocol === 'all' || rule.fromPort !== opts.sshPort || rule.toPort !== opts.sshPort) {
    const ports = rule.protocol === 'all' ? 'all traffic' : `ports ${rule.fromPort}-${rule.toPort}`
    problems.push({code: 'ports', severity: 'warn', message: `opens ${ports}, not only SSH port ${opts.sshPort}`})
  }
  if (rule.role === 'unmanaged') {
    problems.push({code: 'unmanaged', severity: 'warn', message: 'not written by bastion (no "bastion:" description): no vendor owns it'})
  }
  return problems
}

/** The rules admitting `cidr` on the SSH port (a rule for a wider range counts). */
export function rulesAdmitting(rules: WhitelistRule[], cidr: string, sshPort: number): WhitelistRule[] {
  return rules.filter(
    (r) =>
      (r.protocol === 'all' || (r.protocol === 'tcp' && r.fromPort <= sshPort && r.toPort >= sshPort)) && cidrContains(r.cidr, cidr),
  )
}

/** Group vendor rules by vendor (CIDRs in rule order). */
export function vendorsOf(rules: WhitelistRule[]): {vendor: string; cidrs: string[]}[] {
  const byVendor = new Map<string, string[]>()
  for (const r of rules) {
    if (r.role !== 'vendor' || !r.vendor) continue
    const list = byVendor.get(r.vendor) ?? []
    if (!list.includes(r.cidr)) list.push(r.cidr)
    byVendor.set(r.vendor, list)
  }
  return [...byVendor.entries()].map(([vendor, cidrs]) => ({vendor, cidrs}))
}

/** The bastion's name: it becomes tags, a security group name and (on Azure) resource names, so a DNS label. */
export function parseBastionName(raw: string): string {
  const name = raw.trim()
  if (!/^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/.test(name)) {
    const suggestion = name.toLowerCase().replace(/[^a-z0-9-]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 63)
    throw inputError(
      'BASTION_NAME',
      `bastion name "${raw}" is not usable: use 1-63 lower-case letters, digits and "-", starting and ending with a letter or digit`,
      suggestion ? [`--name ${suggestion}`] : ['--name warehouse-jump'],
    )
  }
  return name
}
