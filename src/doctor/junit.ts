/**
 * doctor's JUnit XML, for CI test reports: one test suite per host, one test case per finding (warnings pass with their
 * text in system-out), a host doctor could not reach as an <error>. Built with xmlbuilder2, which escapes markup; host
 * text is made inert first (controls, which XML 1.0 cannot carry and CI logs would act on, become visible escapes).
 */
import {create} from 'xmlbuilder2'
import type {XMLBuilder} from 'xmlbuilder2/lib/interfaces.js'
import {inert, inertLines} from '../ui/inert.js'
import type {DoctorResult} from './report.js'

function document(counts: {tests: number; failures: number; errors: number; skipped: number}): {doc: XMLBuilder; suites: XMLBuilder} {
  const doc = create({version: '1.0', encoding: 'UTF-8'})
  const suites = doc.ele('testsuites', {name: 'bastion doctor', ...stringsOf(counts)})
  return {doc, suites}
}

function stringsOf(o: Record<string, number | string>): Record<string, string> {
  return Object.fromEntries(Object.entries(o).map(([k, v]) => [k, String(v)]))
}

function errorCase(suite: XMLBuilder, name: string, error: {code: string; message: string; suggestions: string[]}): void {
  suite
    .ele('testcase', {classname: 'bastion.doctor', name})
    .ele('error', {message: inert(error.message), type: inert(error.code)})
    .txt(inertLines([error.message, ...error.suggestions.map((x) => `fix: ${x}`)].join('\n')))
}

/**
 * JUnit for a doctor that could not start (bad input, an unknown cloud …): one suite with the error, so CI's
 * `doctor --format junit > doctor.xml` never leaves an empty or invalid file behind.
 */
export function renderJunitError(error: {code: string; message: string; suggestions: string[]}): string {
  const {doc, suites} = document({tests: 1, failures: 0, errors: 1, skipped: 0})
  errorCase(suites.ele('testsuite', {name: 'bastion doctor', ...stringsOf({tests: 1, failures: 0, errors: 1, skipped: 0, time: 0})}), 'doctor.input', error)
  return doc.end({prettyPrint: true})
}

export function renderJunit(result: DoctorResult): string {
  const t = result.summary
  const {doc, suites} = document({tests: t.pass + t.warn + t.fail + t.skip + t.hostsNotRun, failures: t.fail, errors: t.hostsNotRun, skipped: t.skip})
  for (const h of result.hosts) {
    const time = h.timings ? (h.timings.totalMs / 1000).toFixed(3) : '0'
    if (!h.ran) {
      const suite = suites.ele('testsuite', {name: inert(h.host), ...stringsOf({tests: 1, failures: 0, errors: 1, skipped: 0, time})})
      errorCase(suite, 'doctor.run', {code: h.error?.code ?? 'ERROR', message: h.error?.message ?? 'doctor could not run', suggestions: h.error?.suggestions ?? []})
      continue
    }
    const sm = h.summary
    const suite = suites.ele('testsuite', {name: inert(h.host), ...stringsOf({tests: h.findings.length, failures: sm.fail, errors: 0, skipped: sm.skip, time})})
    for (const f of h.findings) {
      // Checks that judge several DBs, key lines or addresses repeat an id: the title keeps test case names unique.
      const tc = suite.ele('testcase', {classname: `bastion.doctor.${f.area}`, name: inert(`${f.id}: ${f.title}`)})
      const body = [inert(f.title), `seen: ${inert(f.seen)}`, f.why ? `why: ${inert(f.why)}` : '', f.fix ? `fix: ${inert(f.fix.command)}` : ''].filter(Boolean).join('\n')
      if (f.status === 'fail') tc.ele('failure', {message: inert(`${f.title}: ${f.seen}`), type: f.id}).txt(body)
      else if (f.status === 'skip') tc.ele('skipped', {message: inert(f.seen)})
      else if (f.status === 'warn') tc.ele('system-out').txt(`WARNING ${body}`)
    }
  }
  return doc.end({prettyPrint: true})
}
