/**
 * doctor's findings as GitHub Actions workflow commands (`::error …::`, `::warning …::`; src/ui/github.ts writes and
 * escapes them): failures and warnings become annotations on the run (and, with a config file, on the bastion's or
 * the vendor's line in it). Host text is made inert first.
 */
import {annotation} from '../ui/github.js'
import {inert} from '../ui/inert.js'
import type {DoctorResult} from './report.js'

export interface AnnotationPlace {
  file: string
  line: number
  col?: number
}

/**
 * Every failure (error) and warning (warning) of the report, a host doctor could not check (error), and a closing
 * notice with the summary. `placeOf`: where in the config file a host's findings point (its bastion's line).
 */
export function renderGithub(result: DoctorResult, placeOf: (host: string) => AnnotationPlace | undefined = () => undefined): string {
  const out: string[] = []
  for (const h of result.hosts) {
    const place = placeOf(h.host)
    const props = place ? {file: place.file, line: place.line, col: place.col} : {}
    if (!h.ran) {
      out.push(annotation('error', {...props, title: `bastion doctor: ${inert(h.host)}`}, inert(`${h.host}: doctor could not run: ${h.error?.message ?? 'unknown error'}`)))
      continue
    }
    for (const f of h.findings) {
      if (f.status !== 'fail' && f.status !== 'warn') continue
      const text = `${h.host}: ${f.title}: ${f.seen}${f.fix ? ` (fix: ${f.fix.command})` : ''}`
      out.push(annotation(f.status === 'fail' ? 'error' : 'warning', {...props, title: f.id}, inert(text)))
    }
  }
  const t = result.summary
  out.push(annotation('notice', {}, `bastion doctor: ${t.hosts} report(s), ${t.fail} failed, ${t.warn} warnings, ${t.pass} passed, ${t.skip} skipped${t.hostsNotRun ? `, ${t.hostsNotRun} could not be checked` : ''}`))
  return out.join('\n')
}
