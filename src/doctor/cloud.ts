/**
 * doctor's cloud side: the provider's facts (gathered through the cloud's API) judged by its checks, reported as one
 * more entry beside the hosts (`<cloud>:<name>`), so host and cloud findings make one report. Which facts and which
 * checks is the provider's business (CloudProvider.doctor).
 */
import {openProvider, type Cloud} from '../cloud/seam.js'
import {asBastionError, Exit} from '../errors.js'
import {runChecks, summarize, type DoctorHostReport} from './report.js'
import type {DoctorInput} from './types.js'

export async function doctorCloud(cloud: Cloud, name: string, input: DoctorInput): Promise<DoctorHostReport> {
  const label = `${cloud.name}:${name}`
  const t0 = Date.now()
  try {
    const provider = await openProvider(cloud)
    const subject = await provider.doctor(name)
    // The provider's reason the cloud could not be read, in the one error shape (it ends nothing by itself: exit 1).
    if (!subject.ran) return {host: label, ran: false, ok: false, error: {...subject.error, exit: Exit.FAILED}, findings: [], summary: summarize([])}
    const findings = runChecks(subject.checks, {input, facts: subject.facts, now: new Date()})
    return {
      host: label,
      ran: true,
      ok: !findings.some((f) => f.status === 'fail'),
      about: subject.about,
      findings,
      summary: summarize(findings),
      timings: {probeMs: Date.now() - t0, totalMs: Date.now() - t0},
    }
  } catch (err) {
    const e = asBastionError(err)
    return {host: label, ran: false, ok: false, error: e.toJSON(), findings: [], summary: summarize([])}
  }
}
