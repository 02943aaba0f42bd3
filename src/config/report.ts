/**
 * `bastion config validate`'s renderings: human (`file:line:col: error [code] message`), GitHub workflow annotations
 * and SARIF 2.1.0 (code scanning); JUnit XML is src/config/junit.ts (xmlbuilder2 loads only for it). The --json result is the ConfigValidateResult itself.
 * Messages quote the file (names, keys, paths): human and XML text goes through inert(); GitHub commands escape theirs.
 */
import {isAbsolute, relative, resolve} from 'node:path'
import {pathToFileURL} from 'node:url'
import {annotation} from '../ui/github.js'
import {inert} from '../ui/inert.js'
import type {Style} from '../ui/style.js'
import {CONFIG_RULES, ruleOf} from './rules.js'
import type {ConfigValidateResult} from './validate.js'

export const VALIDATE_FORMATS = ['human', 'json', 'junit', 'github', 'sarif'] as const
export type ValidateFormat = (typeof VALIDATE_FORMATS)[number]

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`
}

function counts(errors: number, warnings: number): string {
  return `${plural(errors, 'error')}, ${plural(warnings, 'warning')}`
}

/** `file:line:col: error [code] message`, then how to fix it; a line per file and a summary. */
export function renderHuman(result: ConfigValidateResult, s: Style): string {
  const out: string[] = []
  for (const f of result.files) {
    for (const i of f.issues) {
      const sev = i.severity === 'error' ? s.bad('error') : s.warn('warning')
      out.push(`${inert(i.file)}:${i.line}:${i.column}: ${sev} ${s.dim(`[${i.code}]`)} ${inert(i.message)}`)
      if (i.suggestion) out.push(`    ${s.dim('fix:')} ${inert(i.suggestion)}`)
    }
    const line = `${inert(f.file)}: ${f.valid ? 'valid' : 'invalid'} (${counts(f.errors, f.warnings)})`
    out.push(f.valid ? s.ok(line) : s.bad(line))
  }
  if (result.files.length > 1) {
    const t = result.summary
    const line = `config validate: ${plural(t.files, 'file')}, ${counts(t.errors, t.warnings)}${result.strict && t.warnings > 0 ? ' (--strict: warnings fail)' : ''}`
    out.push(result.valid ? s.ok(line) : s.bad(line))
  } else if (result.strict && result.summary.warnings > 0 && result.summary.errors === 0) out.push(s.bad('--strict: warnings fail'))
  return out.join('\n')
}

/** The file as GitHub and SARIF want it: relative to the workspace (the repository) when it is inside it. */
export function repoPath(file: string, opts: {cwd?: string; workspace?: string} = {}): string {
  const full = resolve(opts.cwd ?? process.cwd(), file)
  const root = opts.workspace
  if (root) {
    const rel = relative(root, full)
    if (rel !== '' && !rel.startsWith('..') && !isAbsolute(rel)) return rel.split('\\').join('/')
  }
  return isAbsolute(file) ? full : file.split('\\').join('/')
}

/** One workflow command per issue (GitHub shows them on the pull request's diff), then a plain summary line. */
export function renderGithub(result: ConfigValidateResult, opts: {cwd?: string; workspace?: string} = {}): string {
  const lines = result.files.flatMap((f) =>
    f.issues.map((i) =>
      annotation(
        i.severity,
        {file: repoPath(i.file, opts), line: i.line, endLine: i.endLine, col: i.column, endColumn: i.endColumn, title: `bastion config [${i.code}]`},
        i.suggestion ? `${i.message}\nfix: ${i.suggestion}` : i.message,
      ),
    ),
  )
  const t = result.summary
  lines.push(`bastion config validate: ${plural(t.files, 'file')}, ${counts(t.errors, t.warnings)}: ${result.valid ? 'valid' : 'invalid'}`)
  return lines.join('\n')
}

/** SARIF 2.1.0 for code scanning: every rule (id, descriptions, help, default level), a result per issue with its region. */
export function renderSarif(result: ConfigValidateResult, opts: {version: string; cwd?: string; workspace?: string}): Record<string, unknown> {
  const ids = Object.keys(CONFIG_RULES)
  const extra = [...new Set(result.files.flatMap((f) => f.issues.map((i) => i.code)))].filter((c) => !ids.includes(c))
  const allIds = [...ids, ...extra]
  const rules = allIds.map((id) => {
    const r = ruleOf(id)
    return {
      id,
      shortDescription: {text: r.summary},
      help: {text: r.help},
      defaultConfiguration: {level: r.severity},
    }
  })
  const uri = (file: string) => {
    const p = repoPath(file, opts)
    return isAbsolute(p) ? {uri: pathToFileURL(p).href} : {uri: encodeURI(p), uriBaseId: '%SRCROOT%'}
  }
  const results = result.files.flatMap((f) =>
    f.issues.map((i) => ({
      ruleId: i.code,
      ruleIndex: allIds.indexOf(i.code),
      level: i.severity === 'error' || result.strict ? 'error' : 'warning',
      message: {text: i.suggestion ? `${i.message}. Fix: ${i.suggestion}` : i.message},
      locations: [
        {
          physicalLocation: {
            artifactLocation: uri(i.file),
            region: {startLine: i.line, startColumn: i.column, endLine: i.endLine, endColumn: Math.max(i.endColumn, i.line === i.endLine ? i.column + 1 : 1)},
          },
        },
      ],
    })),
  )
  return {
    $schema: 'https://json.schemastore.org/sarif-2.1.0.json',
    version: '2.1.0',
    runs: [
      {
        tool: {driver: {name: 'bastion', semanticVersion: opts.version, version: opts.version, rules}},
        invocations: [{executionSuccessful: true, exitCode: result.exitCode}],
        results,
      },
    ],
  }
}
