/**
 * doctor --config: every bastion of the file, every vendor on it. On each host ONE round trip runs the list script
 * (the vendor accounts and their key lines, for drift) and the probe of every vendor (src/remote/batch.ts); each
 * vendor's facts are then judged by the same host checks as `doctor --host` (doctorOnHost, handed a runner that
 * answers from the batch). A cloud bastion's allowlist is read through its provider (the whitelist view) for drift,
 * and its cloud side checked as doctor --cloud does. Drift findings are src/doctor/checks/drift.ts.
 */
import {listScript, readListFacts, type ListResult} from '../access/service.js'
import {cloudOf} from '../config/cloud.js'
import type {WhitelistView} from '../cloud/provider.js'
import {allowlistDrift, hostDrift, type Drift} from '../config/reconcile.js'
import type {ResolvedBastion, ResolvedVendor} from '../config/resolve.js'
import {asBastionError, type ErrorJson} from '../errors.js'
import {batchedRunner} from '../remote/batch.js'
import type {ScriptRunner} from '../remote/run.js'
import {checkScriptRun} from '../remote/script.js'
import type {SshSession} from '../ssh/types.js'
import {driftFindings} from './checks/drift.js'
import {doctorCloud} from './cloud.js'
import {probeScript} from './probe.js'
import {summarize, type DoctorHostReport} from './report.js'
import {doctorOnHost} from './service.js'
import type {DoctorInput} from './types.js'

/** What doctor checks for one vendor on one bastion: its user, first key, databases and source addresses. */
export function vendorInput(v: ResolvedVendor, host: string, sshPort: number): DoctorInput {
  const key = v.keys[0]?.key
  return {vendor: v.user, host, ...(key ? {key} : {}), dbs: v.databases.map((d) => d.target), vendorIps: v.cidrs, sshPort}
}

export interface BastionHostDoctor {
  /** The accounts and key lines the list script read (for drift). */
  listed: ListResult
  /** One report per vendor, labelled `<bastion>/<vendor>`. */
  vendors: DoctorHostReport[]
}

/** The host side of one bastion: one batched round trip (accounts + every vendor's probe), then the host checks. */
export async function doctorBastionHost(
  bastion: ResolvedBastion,
  session: SshSession,
  run: ScriptRunner,
  sshPort: number,
  report: (status: string) => void = () => {},
): Promise<BastionHostDoctor> {
  const inputs = bastion.vendors.map((v) => vendorInput(v, bastion.name, sshPort))
  const list = listScript()
  const runner = batchedRunner(run, [list, ...inputs.map((i) => probeScript(i))])
  report(`probing ${inputs.length} vendor(s)`)
  const listed = readListFacts(checkScriptRun(bastion.name, 'vendor-list.sh', await runner(list)))
  const vendors: DoctorHostReport[] = []
  for (const [i, input] of inputs.entries()) {
    const label = `${bastion.name}/${bastion.vendors[i]?.name ?? input.vendor}`
    try {
      vendors.push(await doctorOnHost(label, session, runner, input, {e2e: false, fix: false, dryRun: false}))
    } catch (error) {
      vendors.push(notRun(label, asBastionError(error).toJSON()))
    }
  }
  return {listed, vendors}
}

export function notRun(host: string, error: ErrorJson): DoctorHostReport {
  return {host, ran: false, ok: false, error, findings: [], summary: summarize([])}
}

/** The cloud side of a cloud bastion: doctor --cloud's checks, with every vendor's CIDRs expected. */
export async function doctorBastionCloud(bastion: ResolvedBastion, sshPort: number): Promise<DoctorHostReport | undefined> {
  if (!bastion.cloud) return undefined
  const cidrs = [...new Set(bastion.vendors.flatMap((v) => v.cidrs))]
  const input: DoctorInput = {vendor: bastion.vendors[0]?.user ?? 'vendor', dbs: bastion.vendors.flatMap((v) => v.databases.map((d) => d.target)), vendorIps: cidrs, sshPort}
  try {
    return await doctorCloud(await cloudOf(bastion.cloud), bastion.cloud.name, input)
  } catch (error) {
    return notRun(`${bastion.cloud.provider}:${bastion.cloud.name}`, asBastionError(error).toJSON())
  }
}

/**
 * The drift report of one bastion (labelled with its name): the host's accounts and keys against the file, and a cloud
 * bastion's allowlist against the vendors' CIDRs. A side that could not be read is said so (host: the report did not
 * run; allowlist: an error beside the host's findings).
 */
export function driftReport(
  bastion: ResolvedBastion,
  file: string,
  host: {listed: ListResult} | {error: ErrorJson},
  allowlist?: {view: WhitelistView} | {error: ErrorJson},
): {report: DoctorHostReport; drift: Drift[]} {
  if ('error' in host) return {report: notRun(bastion.name, host.error), drift: []}
  const drift = [...hostDrift(bastion, host.listed)]
  if (allowlist && 'view' in allowlist) drift.push(...allowlistDrift(bastion, allowlist.view.rules))
  const findings = driftFindings(drift, {file, bastion: bastion.name, host: true, allowlist: Boolean(allowlist && 'view' in allowlist)})
  if (allowlist && 'error' in allowlist)
    findings.push({
      id: 'drift.rule.missing',
      area: 'drift',
      status: 'skip',
      title: 'the allowlist matches the file',
      seen: `could not read it: ${allowlist.error.message}`,
    })
  return {
    report: {host: bastion.name, ran: true, ok: !findings.some((f) => f.status === 'fail'), findings, summary: summarize(findings)},
    drift,
  }
}
