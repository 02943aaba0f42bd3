/**
 * doctor's findings as GitHub Actions workflow commands (`::error …::`, `::warning …::`): failures and warnings become
 * annotations on the run (and, with a config file, on the bastion's line in it). Values are escaped as the runner
 * expects: `%`, CR and LF in the message; also `:` and `,` in properties. Host text is made inert first.
 */
import {inert} from '../ui/inert.js'
import type {DoctorResult} from './report.js'

export interface AnnotationPlace {
  file: string
  line: number
  col?: number
}

const escapeData = (s: string) => s.replace(/%/g, '%25').replace(/\r/g, '%0D').replace(/\n/g, '%0A')
const escapeProperty = (s: string) => escapeData(s).replace(/:/g, '%3A').replace(/,/g, '%2C')

/** One workflow command. */
export function annotation(level: 'error' | 'warning' | 'notice', message: string, props: Record<string, string | number | undefined> = {}): string {
  const p = Object.entries(props)
    .filter(([, v]) => v !== undefined && v !== '')
    .map(([k, v]) => `${k}=${escapeProperty(String(v))}`)
    .join(',')
  return `::${level}${p ? ` ${p}` : ''}::${escapeData(message)}`
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
      out.push(annotation('error', inert(`${h.host}: doctor could not run: ${h.error?.message ?? 'unknown error'}`), {...props, title: `bastion doctor: ${inert(h.host)}`}))
      continue
    }
    for (const f of h.findings) {
      if (f.status !== 'fail' && f.status !== 'warn') continue
      const text = `${h.host}: ${f.title}: ${f.seen}${f.fix ? ` (fix: ${f.fix.command})` : ''}`
      out.push(annotation(f.status === 'fail' ? 'error' : 'warning', inert(text), {...props, title: f.id}))
    }
  }
  const t = result.summary
  out.push(annotation('notice', `bastion doctor: ${t.hosts} report(s), ${t.fail} failed, ${t.warn} warnings, ${t.pass} passed, ${t.skip} skipped${t.hostsNotRun ? `, ${t.hostsNotRun} could not be checked` : ''}`))
  return out.join('\n')
}
