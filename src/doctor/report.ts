/**
 * doctor's report: run checks over facts, order findings, and render them (human, JSON, JUnit XML).
 * The JSON shape is documented in docs/checks.md ("JSON output") and versioned by `schemaVersion`.
 */
import {inert, inertLines} from '../ui/inert.js'
import type {ErrorJson} from '../errors.js'
import type {Style} from '../ui/style.js'
import type {Area, Check, CheckContext, Finding, Status} from './types.js'

export const SCHEMA_VERSION = 1

export const AREA_ORDER: Area[] = ['cloud', 'sshd', 'user', 'files', 'keys', 'network', 'e2e', 'tunnel']
const STATUS_ORDER: Status[] = ['fail', 'warn', 'skip', 'pass']

/** Run checks; a check that throws becomes a failed finding naming the check (a bug must not hide other findings). */
export function runChecks<F>(checks: Check<F>[], ctx: CheckContext<F>): Finding[] {
  const out: Finding[] = []
  for (const check of checks) {
    try {
      out.push(...check.run(ctx))
    } catch (err) {
      out.push({
        id: check.ids[0] ?? 'doctor.check',
        area: check.area,
        status: 'fail',
        title: `check ${check.ids.join(', ')} could not judge the facts`,
        seen: err instanceof Error ? err.message : String(err),
        why: 'this is a bug in bastion doctor; the other checks still ran',
      })
    }
  }
  return out
}

export interface Summary {
  pass: number
  warn: number
  fail: number
  skip: number
}

export function summarize(findings: Finding[]): Summary {
  const s: Summary = {pass: 0, warn: 0, fail: 0, skip: 0}
  for (const f of findings) s[f.status]++
  return s
}

/** Areas with failures first, then in the usual order; inside an area, failures first. */
export function orderFindings(findings: Finding[]): Finding[] {
  const worst = (area: Area) => Math.min(...findings.filter((f) => f.area === area).map((f) => STATUS_ORDER.indexOf(f.status)))
  const areas = [...new Set(findings.map((f) => f.area))].sort(
    (a, b) => worst(a) - worst(b) || AREA_ORDER.indexOf(a) - AREA_ORDER.indexOf(b),
  )
  return areas.flatMap((area) =>
    findings
      .filter((f) => f.area === area)
      .map((f, i) => ({f, i}))
      .sort((x, y) => STATUS_ORDER.indexOf(x.f.status) - STATUS_ORDER.indexOf(y.f.status) || x.i - y.i)
      .map(({f}) => f),
  )
}

export interface DoctorHostReport {
  /** The --host value as given. */
  host: string
  /** doctor ran on this host (false: it could not; see error). */
  ran: boolean
  /** No finding failed (warnings allowed). */
  ok: boolean
  error?: ErrorJson
  /** What the bastion is, in a few words: OS and OpenSSH version. */
  about?: string
  findings: Finding[]
  summary: Summary
  /** --fix: what was applied (or, with --dry-run, what would be), then the findings are those after the fix. */
  fixes?: {id: string; command: string; applied: boolean}[]
  /** probeMs: the probe round trip; totalMs: everything on this host after connecting (probe, --fix, --e2e). */
  timings?: {probeMs: number; totalMs: number}
}

export interface DoctorResult {
  schemaVersion: number
  /** The --vendor checked ('' for doctor --tunnel). */
  vendor: string
  /** doctor --tunnel: the reverse tunnel checked. */
  tunnel?: string
  ok: boolean
  /** 0: nothing failed; 1: at least one check failed; 2: doctor could not run on some host. */
  exitCode: number
  summary: Summary & {hosts: number; hostsNotRun: number}
  hosts: DoctorHostReport[]
}

export function doctorExitCode(hosts: DoctorHostReport[]): number {
  if (hosts.some((h) => !h.ran)) return 2
  if (hosts.some((h) => h.summary.fail > 0)) return 1
  return 0
}

export function buildResult(vendor: string, hosts: DoctorHostReport[]): DoctorResult {
  const total = hosts.reduce<Summary>(
    (acc, h) => ({pass: acc.pass + h.summary.pass, warn: acc.warn + h.summary.warn, fail: acc.fail + h.summary.fail, skip: acc.skip + h.summary.skip}),
    {pass: 0, warn: 0, fail: 0, skip: 0},
  )
  const exitCode = doctorExitCode(hosts)
  return {
    schemaVersion: SCHEMA_VERSION,
    vendor,
    ok: exitCode === 0,
    exitCode,
    summary: {...total, hosts: hosts.length, hostsNotRun: hosts.filter((h) => !h.ran).length},
    hosts,
  }
}

const ICON: Record<Status, string> = {pass: '✔', warn: '!', fail: '✖', skip: '-'}

function paint(s: Style, status: Status, text: string): string {
  return status === 'fail' ? s.bad(text) : status === 'warn' ? s.warn(text) : status === 'pass' ? s.ok(text) : s.dim(text)
}

/**
 * Human report: per host, grouped by area, failures first with why and the fix, passes one line each; a summary line.
 * Findings quote the host (paths, key lines, sshd output, OS release), so every text field goes through inert().
 */
export function renderHuman(result: DoctorResult, s: Style, opts: {verbose?: boolean} = {}): string {
  const out: string[] = []
  for (const h of result.hosts) {
    out.push(s.bold(`${inert(h.host)}${h.about ? s.dim(`  (${inert(h.about)})`) : ''}`))
    if (!h.ran) {
      out.push(`  ${s.bad('✖ doctor could not run:')} ${inertLines(h.error?.message ?? 'unknown error')}`)
      for (const sug of h.error?.suggestions ?? []) out.push(`      ${s.dim('fix:')} ${inertLines(sug)}`)
      out.push('')
      continue
    }
    for (const fx of h.fixes ?? []) out.push(`  ${fx.applied ? s.ok('fixed') : s.warn('would fix')}: ${fx.id}  ${s.dim(inert(fx.command))}`)
    if ((h.fixes ?? []).length > 0) out.push('')
    // Per area: what failed, warned or was skipped, with why and the fix; passes one line each with --verbose,
    // otherwise counted on the area's heading.
    const ordered = orderFindings(h.findings)
    for (const area of [...new Set(ordered.map((f) => f.area))]) {
      const inArea = ordered.filter((f) => f.area === area)
      const passed = inArea.filter((f) => f.status === 'pass').length
      out.push(`  ${s.bold(area)}${!opts.verbose && passed > 0 ? s.dim(`  (${passed} passed)`) : ''}`)
      for (const f of inArea) {
        if (f.status === 'pass' && !opts.verbose) continue
        out.push(`    ${paint(s, f.status, `${ICON[f.status]} ${f.status.toUpperCase().padEnd(4)}`)} ${inert(f.title)} ${s.dim(`[${f.id}]`)}`)
        out.push(`           seen: ${inert(f.seen)}`)
        if ((f.status === 'fail' || f.status === 'warn') && f.why) out.push(`           why:  ${inert(f.why)}`)
        if ((f.status === 'fail' || f.status === 'warn') && f.fix) out.push(`           fix:  ${s.code(inert(f.fix.command))}`)
      }
    }
    const sm = h.summary
    out.push(`  ${sm.fail > 0 ? s.bad(`${sm.fail} failed`) : s.ok('0 failed')}, ${sm.warn} warnings, ${sm.pass} passed, ${sm.skip} skipped${h.timings ? s.dim(` in ${h.timings.totalMs} ms`) : ''}`)
    out.push('')
  }
  const t = result.summary
  const line = `doctor: ${t.hosts} host(s), ${t.fail} failed, ${t.warn} warnings, ${t.pass} passed, ${t.skip} skipped${t.hostsNotRun ? `, ${t.hostsNotRun} could not be checked` : ''}`
  out.push(result.exitCode === 0 ? s.ok(line) : s.bad(line))
  return out.join('\n')
}

export {renderJunit, renderJunitError} from './junit.js'
