/**
 * doctor --fix: the safe fixes (modes, owners, unlocking, clearing an account expiry, adding the expected key),
 * shown first, applied in one round trip, then everything is checked again.
 */
import {FILES_LINK_IDS} from './checks/files.js'
import type {Finding} from './types.js'

export interface PlannedFix {
  id: string
  /** What a person would run (shown before applying, and with --dry-run). */
  command: string
  /** 'script': the finding's own sh snippet; 'add-key': the vendor key is added the way add-vendor-key adds it. */
  kind: 'script' | 'add-key'
  script?: string
}

/** The one finding whose fix is adding the vendor's key the way add-vendor-key does (the key is missing). */
export const ADD_KEY_FINDING = 'keys.present'

/**
 * The link finding that fails, if one does: the vendor's home, ~/.ssh or authorized_keys leads somewhere else (a
 * symlink, a hard link, a home shared with another account), so no fix may touch the vendor's files.
 */
export function linkBlocking(findings: Finding[]): Finding | undefined {
  return findings.find((f) => f.status === 'fail' && (FILES_LINK_IDS as readonly string[]).includes(f.id))
}

/** Fixes that write to the vendor's home (owners, modes, key lines): never applied while a link finding fails. */
function writesToHome(f: Finding): boolean {
  return f.area === 'files' || f.area === 'keys'
}

/**
 * While a link finding fails, the other files and keys findings offer no command: each would write in the vendor's
 * home (`sed -i` on authorized_keys, chmod, add-vendor-key), that is, through the link into whatever it points at.
 * They say so instead, and the link finding's own fix comes first.
 */
export function holdFixesBehindLinks(findings: Finding[]): Finding[] {
  const blocking = linkBlocking(findings)
  if (!blocking) return findings
  return findings.map((f) => {
    if (!f.fix || !writesToHome(f) || (FILES_LINK_IDS as readonly string[]).includes(f.id)) return f
    const {fix: _held, ...rest} = f
    return {...rest, why: `${f.why ? `${f.why}. ` : ''}No fix is offered while ${blocking.id} fails: it would write through the link; deal with that first`}
  })
}

/** The fixes --fix may apply for these findings, in report order, each once. */
export function planFixes(findings: Finding[], canAddKey: boolean): PlannedFix[] {
  const fixes: PlannedFix[] = []
  const seen = new Set<string>()
  const blocked = linkBlocking(findings) !== undefined
  for (const f of findings) {
    if ((f.status !== 'fail' && f.status !== 'warn') || !f.fix) continue
    if (blocked && writesToHome(f)) continue
    const key = f.fix.script ?? f.fix.command
    if (seen.has(key)) continue
    if (f.fix.script) {
      seen.add(key)
      fixes.push({id: f.id, command: f.fix.command, kind: 'script', script: f.fix.script})
    } else if (canAddKey && f.id === ADD_KEY_FINDING && /(^|\s)bastion add-vendor-key\s/.test(f.fix.command)) {
      seen.add(key)
      fixes.push({id: f.id, command: f.fix.command, kind: 'add-key'})
    }
  }
  return fixes
}

/** One script for all snippet fixes: each runs in its own subshell and reports `@bastion fixed|fixfailed <id>`. */
export function fixScript(fixes: PlannedFix[]): string {
  const body = fixes
    .filter((f) => f.kind === 'script' && f.script)
    .map((f, i) => {
      if (!/^[a-z0-9_.-]+$/.test(f.id)) throw new Error(`bad finding id ${f.id}`)
      return `# ${i + 1}. ${f.id}\nif (\n${f.script}\n) >&2; then echo '@bastion fixed ${f.id}'; else echo '@bastion fixfailed ${f.id}'; fi`
    })
  return [
    '#!/bin/sh',
    '# rendered by bastion doctor --fix',
    'umask 077',
    'PATH=/usr/sbin:/usr/bin:/sbin:/bin:$PATH',
    'export PATH',
    ...body,
    "echo '@bastion done'",
    '',
  ].join('\n')
}
