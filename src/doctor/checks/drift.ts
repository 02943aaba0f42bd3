/**
 * doctor --config's drift checks: pure functions from the drift between the config file and a bastion
 * (src/config/reconcile.ts) to findings. Every id passes when there is no drift of its kind, so a clean bastion shows
 * what was compared. Ids are documented in docs/checks.md ("drift").
 */
import {describeGrant, grantDelta, type Drift} from '../../config/reconcile.js'
import type {Finding} from '../types.js'

export const DRIFT_HOST_IDS = [
  'drift.vendor.missing',
  'drift.key.missing',
  'drift.key.options',
  'drift.key.not_owned',
  'drift.key.stale',
  'drift.key.unmanaged',
] as const
export const DRIFT_RULE_IDS = ['drift.rule.missing', 'drift.rule.stale', 'drift.rule.unmanaged'] as const

/** Every drift finding id (docs/checks.md documents each). */
export const driftCheckIds: string[] = [...DRIFT_HOST_IDS, ...DRIFT_RULE_IDS]

export interface DriftContext {
  /** The config file, as the user named it (for the fix command). */
  file: string
  bastion: string
  /** The host's drift was read (false: the host could not be reached; its ids are left out). */
  host: boolean
  /** A cloud bastion whose allowlist was read. */
  allowlist: boolean
}

const PASS: Record<string, {title: string; seen: string}> = {
  'drift.vendor.missing': {title: 'every vendor the file puts on the bastion has an account', seen: 'all present'},
  'drift.key.missing': {title: 'every key the file lists is on the bastion', seen: 'all present'},
  'drift.key.options': {title: 'every key line grants what the file says (databases, source addresses, expiry)', seen: 'all as the file says'},
  'drift.key.not_owned': {title: "the file's keys are on bastion-owned lines", seen: 'all bastion-owned'},
  'drift.key.stale': {title: 'no bastion-owned key line the file does not list', seen: 'none'},
  'drift.key.unmanaged': {title: 'no key line bastion does not manage in the vendor accounts', seen: 'none'},
  'drift.rule.missing': {title: 'the allowlist admits every vendor address the file lists', seen: 'all admitted'},
  'drift.rule.stale': {title: 'no bastion-written rule the file does not list', seen: 'none'},
  'drift.rule.unmanaged': {title: 'no rule in front of the SSH port that bastion did not write', seen: 'none'},
}

function finding(d: Drift, ctx: DriftContext): Finding {
  const apply = `bastion apply --config ${ctx.file} --bastion ${ctx.bastion}`
  switch (d.kind) {
    case 'vendor-missing':
      return {
        id: 'drift.vendor.missing',
        area: 'drift',
        status: 'fail',
        title: `vendor ${d.vendor} has an account on the bastion`,
        seen: `no user ${d.user}`,
        why: 'the file gives this vendor access through this bastion; without its account every tunnel login fails',
        fix: {command: apply},
      }
    case 'key-missing':
      return {
        id: 'drift.key.missing',
        area: 'drift',
        status: 'fail',
        title: `${d.key.user} holds key ${d.key.fingerprint}`,
        seen: `not in ${d.key.user}'s authorized_keys (${d.key.label || 'key'} from ${d.source.source})`,
        why: 'the file lists this key; the vendor logging in with it is refused',
        fix: {command: apply},
      }
    case 'key-options':
      return {
        id: 'drift.key.options',
        area: 'drift',
        status: 'fail',
        title: `${d.key.user} key ${d.key.fingerprint} grants what the file says`,
        seen: grantDelta(d.have, d.want),
        why: 'the line on the host lets the vendor reach other databases, from other addresses or for longer (or shorter) than the reviewed file says',
        fix: {command: apply},
      }
    case 'key-not-owned':
      return {
        id: 'drift.key.not_owned',
        area: 'drift',
        status: 'warn',
        title: `${d.key.user} key ${d.key.fingerprint} is on a bastion-owned line`,
        seen: 'the key is there, on a line without bastion\'s tag (added by hand or another tool)',
        why: 'bastion never changes lines it does not own, so the file cannot control what this line grants',
        fix: {command: `remove the line by hand (bastion remove-vendor-key --fingerprint ${d.key.fingerprint} … removes it), then ${apply}`},
      }
    case 'key-stale':
      return {
        id: 'drift.key.stale',
        area: 'drift',
        status: 'fail',
        title: `bastion-owned key ${d.key.fingerprint} of ${d.key.user} is in the file`,
        seen: `not in the file for this bastion; the line grants ${describeGrant(d.have)}`,
        why: 'access nobody reviewed any more: the file no longer lists this key here',
        fix: {command: `${apply} --prune`},
      }
    case 'key-unmanaged':
      return {
        id: 'drift.key.unmanaged',
        area: 'drift',
        status: 'warn',
        title: `key ${d.key.fingerprint} of ${d.key.user} is managed`,
        seen: `a line bastion did not write${d.key.label ? ` (${d.key.label})` : ''}`,
        why: 'the file does not describe this access and bastion will not touch it: someone must own it',
        fix: {command: `review it: bastion list-vendor-keys --config ${ctx.file} --bastion ${ctx.bastion} --vendor ${d.key.user}`},
      }
    case 'rule-missing':
      return {
        id: 'drift.rule.missing',
        area: 'drift',
        status: 'fail',
        title: `the allowlist admits ${d.vendor} from ${d.cidr}`,
        seen: 'no rule for it',
        why: "the vendor's connections from this address are dropped before they reach sshd",
        fix: {command: apply},
      }
    case 'rule-stale':
      return {
        id: 'drift.rule.stale',
        area: 'drift',
        status: 'fail',
        title: `rule ${d.vendor} ${d.cidr} is in the file`,
        seen: `a rule bastion wrote (bastion:vendor=${d.vendor})${d.id ? ` ${d.id}` : ''} the file does not list`,
        why: 'an address nobody reviewed any more can still reach sshd',
        fix: {command: `${apply} --prune`},
      }
    case 'rule-unmanaged':
      return {
        id: 'drift.rule.unmanaged',
        area: 'drift',
        status: 'warn',
        title: `rule ${d.cidr} in front of the SSH port is managed`,
        seen: `not written by bastion (${d.description || 'no description'})${d.id ? ` ${d.id}` : ''}`,
        why: 'the file does not describe this rule and bastion will not touch it: someone must own it',
        fix: {command: 'review it in the cloud console, and remove it or describe it there'},
      }
  }
}

/** The drift findings of one bastion: one per drift entry, and a pass for each id with none. */
export function driftFindings(drift: Drift[], ctx: DriftContext): Finding[] {
  const found = drift.map((d) => finding(d, ctx))
  const ids = [...(ctx.host ? DRIFT_HOST_IDS : []), ...(ctx.allowlist ? DRIFT_RULE_IDS : [])]
  const passes: Finding[] = ids
    .filter((id) => !found.some((f) => f.id === id))
    .map((id) => ({id, area: 'drift', status: 'pass', title: PASS[id]?.title ?? id, seen: PASS[id]?.seen ?? 'none'}))
  return [...found, ...passes]
}
