/**
 * `bastion config validate --format junit`: JUnit XML for CI test reports, built with xmlbuilder2 (which escapes
 * markup; text from the file is made inert first). Its own module so xmlbuilder2 (some 300 modules) loads only when
 * asked for.
 */
import {create} from 'xmlbuilder2'
import {inert} from '../ui/inert.js'
import type {ConfigIssue} from './load.js'
import type {ConfigValidateResult} from './validate.js'

/** JUnit XML: a suite per file, a test case per issue (errors fail; warnings pass with their text, or fail with --strict). */
export function renderJunit(result: ConfigValidateResult): string {
  const failing = (i: ConfigIssue) => i.severity === 'error' || result.strict
  const doc = create({version: '1.0', encoding: 'UTF-8'})
  const total = result.files.reduce((n, f) => n + Math.max(1, f.issues.length), 0)
  const failures = result.files.reduce((n, f) => n + f.issues.filter(failing).length, 0)
  const suites = doc.ele('testsuites', {name: 'bastion config validate', tests: String(total), failures: String(failures), errors: '0', skipped: '0'})
  for (const f of result.files) {
    const fileFailures = f.issues.filter(failing).length
    const suite = suites.ele('testsuite', {name: inert(f.file), tests: String(Math.max(1, f.issues.length)), failures: String(fileFailures), errors: '0', skipped: '0', time: '0'})
    if (f.issues.length === 0) {
      suite.ele('testcase', {classname: 'bastion.config', name: `${inert(f.file)} is valid`})
      continue
    }
    for (const i of f.issues) {
      const where = `${inert(i.file)}:${i.line}:${i.column}`
      const tc = suite.ele('testcase', {classname: `bastion.config.${i.code}`, name: `${i.code} at ${where}`, file: inert(i.file), line: String(i.line)})
      const body = [`${where}: ${i.severity} [${i.code}] ${inert(i.message)}`, i.suggestion ? `fix: ${inert(i.suggestion)}` : ''].filter(Boolean).join('\n')
      if (failing(i)) tc.ele('failure', {message: inert(i.message), type: i.code}).txt(body)
      else tc.ele('system-out').txt(`WARNING ${body}`)
    }
  }
  return doc.end({prettyPrint: true})
}

/** JUnit for a validate that could not run (a missing file): one error, so a report file is never empty. */
export function renderJunitError(error: {code: string; message: string; suggestions: string[]}): string {
  const doc = create({version: '1.0', encoding: 'UTF-8'})
  doc
    .ele('testsuites', {name: 'bastion config validate', tests: '1', failures: '0', errors: '1', skipped: '0'})
    .ele('testsuite', {name: 'bastion config validate', tests: '1', failures: '0', errors: '1', skipped: '0', time: '0'})
    .ele('testcase', {classname: 'bastion.config', name: 'config.input'})
    .ele('error', {message: inert(error.message), type: inert(error.code)})
    .txt([inert(error.message), ...error.suggestions.map((x) => `fix: ${inert(x)}`)].join('\n'))
  return doc.end({prettyPrint: true})
}

