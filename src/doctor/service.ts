/** doctor on one host: gather facts (one probe round trip), judge them, optionally --e2e and --fix. */
import type {SshSession} from '../ssh/types.js'
import {applyAdd, planAdd} from '../access/service.js'
import {type ScriptRunner} from '../remote/run.js'
import {parseFacts} from '../remote/script.js'
import {hostChecks} from './checks/index.js'
import {runE2E} from './e2e.js'
import {fixScript, holdFixesBehindLinks, linkBlocking, planFixes} from './fix.js'
import {gatherHostFacts} from './probe.js'
import {runChecks, summarize, type DoctorHostReport} from './report.js'
import type {DoctorInput, Finding, HostFacts} from './types.js'

export interface DoctorHostOptions {
  e2e: boolean
  fix: boolean
  /** With fix: show the fixes, apply nothing. */
  dryRun: boolean
}

export function judge(input: DoctorInput, facts: HostFacts): Finding[] {
  return holdFixesBehindLinks(runChecks(hostChecks, {input, facts, now: facts.now}))
}

function about(facts: HostFacts): string {
  return [facts.os.prettyName || `${facts.os.id} ${facts.os.versionId}`.trim(), facts.sshd.version].filter(Boolean).join(', ')
}

export async function doctorOnHost(
  host: string,
  session: SshSession,
  run: ScriptRunner,
  input: DoctorInput,
  opts: DoctorHostOptions,
  report: (status: string) => void = () => {},
): Promise<DoctorHostReport> {
  const t0 = Date.now()
  report('probing')
  let facts = await gatherHostFacts(run, input)
  const probeMs = Date.now() - t0
  let findings = judge(input, facts)
  let fixes: DoctorHostReport['fixes']

  if (opts.fix) {
    const planned = planFixes(findings, Boolean(input.key && input.dbs.length > 0))
    fixes = planned.map((f) => ({id: f.id, command: f.command, applied: false}))
    if (!opts.dryRun && planned.length > 0) {
      report('applying fixes')
      if (planned.some((f) => f.kind === 'script')) {
        const out = await run(fixScript(planned))
        const facts2 = parseFacts(out.stdout)
        for (const fx of fixes) if (facts2.some((f) => f.key === 'fixed' && f.rest === fx.id)) fx.applied = true
      }
      if (input.key && planned.some((f) => f.kind === 'add-key')) {
        const plan = planAdd({vendor: input.vendor, key: input.key, permitOpen: input.dbs, from: input.vendorIps, today: facts.now.toISOString().slice(0, 10)})
        await applyAdd(host, run, plan)
        for (const fx of fixes) if (planned.find((p) => p.id === fx.id)?.kind === 'add-key') fx.applied = true
      }
      report('checking again')
      facts = await gatherHostFacts(run, input)
      findings = judge(input, facts)
    }
  }

  if (opts.e2e) {
    const blocking = linkBlocking(findings)
    if (blocking) {
      // the temporary key goes into the vendor's authorized_keys: past a link it would land in another account's file
      findings = [...findings, {
        id: 'e2e.login',
        area: 'e2e',
        status: 'skip',
        title: 'the vendor logs in through the bastion',
        seen: `not tried: ${blocking.id} fails (${blocking.seen}): the temporary key would land outside the vendor's own home`,
      }]
    } else {
      report('end-to-end tunnel test')
      findings = [...findings, ...(await runE2E(session, run, input, facts))]
    }
  }

  return {
    host,
    ran: true,
    ok: !findings.some((f) => f.status === 'fail'),
    about: about(facts),
    findings,
    summary: summarize(findings),
    ...(fixes ? {fixes} : {}),
    timings: {probeMs, totalMs: Date.now() - t0},
  }
}
