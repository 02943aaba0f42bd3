/**
 * doctor's cloud side: the provider's facts (gathered through the cloud's API, loaded lazily) judged by its checks,
 * reported as one more entry beside the hosts (`aws:<name>`), so host and cloud findings make one report.
 */
import {asBastionError} from '../errors.js'
import {runChecks, summarize, type DoctorHostReport} from './report.js'
import type {DoctorInput} from './types.js'

export interface CloudTarget {
  cloud: 'aws'
  name: string
  region?: string
  profile?: string
}

export async function doctorCloud(target: CloudTarget, input: DoctorInput): Promise<DoctorHostReport> {
  const label = `${target.cloud}:${target.name}`
  const t0 = Date.now()
  try {
    // Only this path loads the cloud SDK.
    const {createEc2Client} = await import('../cloud/aws/client.js')
    const {awsChecks, gatherAwsFacts} = await import('../cloud/aws/doctor.js')
    const client = await createEc2Client({...(target.region ? {region: target.region} : {}), ...(target.profile ? {profile: target.profile} : {})})
    const facts = await gatherAwsFacts(client, target.name)
    // Failed reads only skip the checks that need them — unless nothing could be read at all (no credentials, no
    // permission to describe, endpoint down): then the cloud side could not be checked, which is not a pass.
    const first = facts.errors[0]
    if (first && facts.instances.length === 0 && facts.securityGroups.length === 0 && facts.addresses.length === 0) {
      return {
        host: label,
        ran: false,
        ok: false,
        error: {code: first.code, message: `${first.what}: ${first.message}`, suggestions: ['check the AWS credentials, region and the Describe* permissions in docs/aws-iam-policy.json']},
        findings: [],
        summary: summarize([]),
      }
    }
    const findings = runChecks(awsChecks, {input, facts, now: new Date()})
    return {
      host: label,
      ran: true,
      ok: !findings.some((f) => f.status === 'fail'),
      about: `AWS${facts.region ? ` ${facts.region}` : ''}${facts.instance ? `, ${facts.instance.id}` : ''}`,
      findings,
      summary: summarize(findings),
      timings: {probeMs: Date.now() - t0, totalMs: Date.now() - t0},
    }
  } catch (err) {
    const e = asBastionError(err)
    return {host: label, ran: false, ok: false, error: {code: e.code, message: e.message, suggestions: e.suggestions}, findings: [], summary: summarize([])}
  }
}
