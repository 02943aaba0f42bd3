/**
 * apply: converge bastions to the config file. Observe (the list script's accounts and key lines: one round trip; the
 * cloud's whitelist view) → reconcile (src/config/reconcile.ts, pure: the diff --dry-run prints) → execute through the
 * existing services: every host change is vendor-add.sh / vendor-remove.sh (atomic, idempotent, under the vendor's
 * lock), all of a host's changes in one batched round trip; allowlist changes through the provider's whitelist add /
 * remove. Interrupted (even SIGKILL), a re-run observes again and does what is left.
 */
import {addScript, planAdd, readAddFacts, readListFacts, readRemoveFacts, removeScript, listScript, type ListResult} from '../access/service.js'
import {openProvider} from '../cloud/seam.js'
import {cloudOf} from './cloud.js'
import {asBastionError, type ErrorJson} from '../errors.js'
import {parseHostPort} from '../input/parse.js'
import {runBatch} from '../remote/batch.js'
import type {ScriptRunner} from '../remote/run.js'
import {checkScriptRun} from '../remote/script.js'
import {changeLine, type Change} from './reconcile.js'
import type {ResolvedBastion} from './resolve.js'

export type ChangeStatus = 'planned' | 'done' | 'unchanged' | 'failed'

export interface ChangeReport {
  op: Change['op']
  target: Change['target']
  vendor: string
  user?: string
  fingerprint?: string
  cidr?: string
  /** The diff line: `+ hevo key SHA256:… permitopen …`. */
  text: string
  status: ChangeStatus
  error?: ErrorJson
}

export function reportOf(c: Change, status: ChangeStatus, error?: ErrorJson): ChangeReport {
  const base = {op: c.op, target: c.target, vendor: c.vendor, text: changeLine(c), status, ...(error ? {error} : {})}
  return c.target === 'host' ? {...base, user: c.user, fingerprint: c.fingerprint} : {...base, cidr: c.cidr}
}

/** Observe a host: every account bastion manages and its key lines (one round trip). */
export async function observeHost(label: string, run: ScriptRunner): Promise<ListResult> {
  return readListFacts(checkScriptRun(label, 'vendor-list.sh', await run(listScript())))
}

/** The script of one host change. */
export function changeScript(c: Extract<Change, {target: 'host'}>, today: string, loginUser: string): {script: string; name: string} {
  if (c.op === '-')
    return {name: 'vendor-remove.sh', script: removeScript({vendor: c.user, mode: 'fingerprints', fingerprints: [c.fingerprint], deleteUser: false, loginUser})}
  return {name: 'vendor-add.sh', script: addScript(addPlanOf(c, today))}
}

function addPlanOf(c: Extract<Change, {target: 'host'; op: '+' | '~'}>, today: string) {
  return planAdd({
    vendor: c.user,
    key: c.key.key,
    permitOpen: c.grant.permitOpen.map((p) => parseHostPort(p)),
    from: c.grant.from,
    ...(c.grant.expiryTime ? {expiryTime: c.grant.expiryTime} : {}),
    today,
  })
}

/** Execute a host's changes in one round trip; each change reports done (or unchanged) or its error. */
export async function executeHost(label: string, run: ScriptRunner, changes: Change[], today: string, loginUser: string): Promise<ChangeReport[]> {
  const host = changes.filter((c): c is Extract<Change, {target: 'host'}> => c.target === 'host')
  if (host.length === 0) return []
  const scripts = host.map((c) => changeScript(c, today, loginUser))
  const results = await runBatch(run, scripts.map((s) => s.script))
  return host.map((c, i) => {
    try {
      const facts = checkScriptRun(label, scripts[i]?.name ?? 'script', results[i] ?? {code: null, stdout: '', stderr: ''})
      if (c.op === '-') {
        const r = readRemoveFacts({vendor: c.user, mode: 'fingerprints', fingerprints: [c.fingerprint], deleteUser: false, loginUser}, facts)
        return reportOf(c, r.removed.length > 0 ? 'done' : 'unchanged')
      }
      const r = readAddFacts(addPlanOf(c, today), facts)
      return reportOf(c, r.key.status === 'present' ? 'unchanged' : 'done')
    } catch (error) {
      return reportOf(c, 'failed', asBastionError(error).toJSON())
    }
  })
}

/** Execute the allowlist changes through the provider: one whitelist add / remove per vendor. */
export async function executeAllowlist(bastion: ResolvedBastion, changes: Change[]): Promise<ChangeReport[]> {
  const rules = changes.filter((c): c is Extract<Change, {target: 'allowlist'}> => c.target === 'allowlist')
  if (rules.length === 0 || !bastion.cloud) return []
  const cloud = bastion.cloud
  const provider = await openProvider(await cloudOf(cloud))
  const out: ChangeReport[] = []
  for (const op of ['+', '-'] as const) {
    const byVendor = new Map<string, string[]>()
    for (const r of rules.filter((x) => x.op === op)) byVendor.set(r.vendor, [...(byVendor.get(r.vendor) ?? []), r.cidr])
    for (const [vendor, cidrs] of byVendor) {
      const mine = rules.filter((r) => r.op === op && r.vendor === vendor)
      try {
        const change = op === '+' ? await provider.whitelistAdd(cloud.name, {vendor, cidrs}) : await provider.whitelistRemove(cloud.name, vendor, cidrs)
        for (const r of mine) {
          const touched = op === '+' ? change.added.some((a) => a.cidr === r.cidr) : change.removed.some((a) => a.cidr === r.cidr)
          out.push(reportOf(r, touched ? 'done' : 'unchanged'))
        }
      } catch (error) {
        const e = asBastionError(error).toJSON()
        for (const r of mine) out.push(reportOf(r, 'failed', e))
      }
    }
  }
  return out
}
