/** doctor --tunnel on one host: one read-only round trip (tunnel-status.sh with PROBE=1), then the pure tunnel checks. */
import {runChecks, summarize, type DoctorHostReport} from '../doctor/report.js'
import type {DoctorInput} from '../doctor/types.js'
import type {ScriptRunner} from '../remote/run.js'
import {tunnelChecks} from './checks.js'
import {applyStatus} from './service.js'
import type {TunnelReport} from './status.js'

/** An empty report for a tunnel the host knows nothing about (the checks then say it does not exist). */
function absentReport(name: string): TunnelReport {
  return {
    name,
    configured: false,
    pinnedKeys: [],
    links: [],
    unit: {load: 'not-found', active: 'inactive', sub: 'dead', result: '-', restarts: 0, mainPid: 0, enabled: '-'},
    forward: 'down',
    connections: [],
    log: [],
    runLog: [],
    ssAvailable: false,
  }
}

export async function doctorTunnelOnHost(
  host: string,
  run: ScriptRunner,
  name: string,
  input: DoctorInput,
  opts: {netTimeoutSeconds: number},
): Promise<DoctorHostReport> {
  const t0 = Date.now()
  const reports = await applyStatus(host, run, {name, probe: true, netTimeoutSeconds: opts.netTimeoutSeconds, logLines: 20})
  const probeMs = Date.now() - t0
  const report = reports.find((r) => r.name === name) ?? absentReport(name)
  const findings = runChecks(tunnelChecks, {input, facts: {name, report, host}, now: new Date()})
  return {
    host,
    ran: true,
    ok: !findings.some((f) => f.status === 'fail'),
    about: `tunnel ${name}: ${report.unit.active}/${report.unit.sub}`,
    findings,
    summary: summarize(findings),
    timings: {probeMs, totalMs: Date.now() - t0},
  }
}
