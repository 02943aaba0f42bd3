/**
 * Remote scripts: a template from templates/ with its parameters prepended as shell-quoted assignments,
 * and the parser for the `@bastion <key> <values…>` lines the scripts print.
 */
import {readFileSync} from 'node:fs'
import {join} from 'node:path'
import {remoteError} from '../errors.js'
import {templatesDir} from '../paths.js'
import {quoteShell} from '../ssh/quote.js'

const cache = new Map<string, string>()
/** The text of `templates/<name>`, read once. */
export function template(name: string): string {
  let text = cache.get(name)
  if (text === undefined) {
    text = readFileSync(join(templatesDir, name), 'utf8')
    cache.set(name, text)
  }
  return text
}

/**
 * Render `templates/<name>` with lib.sh in front and every parameter as a quoted `NAME='value'` line; `libs` are more
 * shared templates put between lib.sh and the script (e.g. tunnel-lib.sh).
 */
export function renderScript(name: string, params: Record<string, string>, libs: string[] = []): string {
  const header = Object.entries(params)
    .map(([k, v]) => {
      if (!/^[A-Z_][A-Z0-9_]*$/.test(k)) throw new Error(`bad script parameter name ${k}`)
      return `${k}=${quoteShell(v)}`
    })
    .join('\n')
  return `#!/bin/sh\n# rendered by bastion from templates/${name}\n${header}\nexport ${Object.keys(params).join(' ')}\n${[template('lib.sh'), ...libs.map(template)].join('\n')}\n${template(name)}`
}

export interface ScriptFact {
  key: string
  args: string[]
  /** The whole text after the key, for free-text values. */
  rest: string
}

/** The `@bastion …` lines of a script's stdout, in order. */
export function parseFacts(stdout: string): ScriptFact[] {
  const facts: ScriptFact[] = []
  for (const line of stdout.split('\n')) {
    if (!line.startsWith('@bastion ')) continue
    const body = line.slice('@bastion '.length)
    const sp = body.indexOf(' ')
    const key = sp < 0 ? body : body.slice(0, sp)
    const rest = sp < 0 ? '' : body.slice(sp + 1)
    facts.push({key, rest, args: rest === '' ? [] : rest.split(' ')})
  }
  return facts
}

/**
 * Check a script run: an `@bastion error CODE message` line becomes a BastionError (exit REMOTE) with that code and
 * the `@bastion fix <command>` the script gave before it (the command to run on the host) as the first suggestion;
 * a run that ended without `@bastion done` is reported with the tail of its stderr.
 */
export function checkScriptRun(host: string, script: string, run: {code: number | null; stdout: string; stderr: string}): ScriptFact[] {
  const facts = parseFacts(run.stdout)
  const err = facts.find((f) => f.key === 'error')
  if (err) {
    const [code = 'REMOTE', ...words] = err.args
    const hostFixes = facts.filter((f) => f.key === 'fix').map((f) => `on ${host}: ${f.rest}`)
    const full = /no space left on (\S+)/.exec(err.rest)?.[1]
    if (full && hostFixes.length === 0) hostFixes.push(`on ${host}: free space on ${full} (df -h ${full}; df -i ${full}), then re-run; what this run had created was undone`)
    throw remoteError(`REMOTE_${code}`, `${host}: ${words.join(' ')}`, [...hostFixes, ...remoteSuggestions(code)], {script, stderr: run.stderr.trim().slice(-2000)})
  }
  if (run.code !== 0 || !facts.some((f) => f.key === 'done')) {
    const tail = run.stderr.trim().split('\n').slice(-5).join('\n')
    throw remoteError(
      'REMOTE_FAILED',
      `${host}: the remote ${script} script failed (exit ${run.code ?? 'signal'})${tail ? `:\n${tail}` : ''}`,
      ['run the command again with --dry-run to see the script, and run it by hand on the host with `sudo sh -x`'],
      {script, stderr: run.stderr.trim().slice(-2000), stdout: run.stdout.slice(-2000)},
    )
  }
  return facts
}

function remoteSuggestions(code: string): string[] {
  switch (code) {
    case 'SYMLINK':
    case 'HARDLINK':
      return ['find out who planted the link and why: a link in a vendor\'s home can point bastion at root\'s or the system\'s files']
    case 'NOT_OURS':
      return ['bastion manages only accounts it created, or existing ones it is told to take over with --adopt (add-vendor-key)']
    case 'GROUP_EXISTS':
      return ['a vendor name must not be an existing group: the vendor\'s account would get that group\'s rights']
    case 'SYSTEM_ACCOUNT':
      return ['choose a vendor name that is not an existing system account, e.g. --vendor hevo-tunnel']
    case 'LOCK':
      return ['another bastion run is still working on this vendor; wait for it, or look for a hung process on the host']
    case 'SHELL_MISSING':
      return ['install the shell on the host or pick one that exists (cat /etc/shells)']
    case 'SELF':
      return ['log in as another administrator to delete this account']
    default:
      return []
  }
}
